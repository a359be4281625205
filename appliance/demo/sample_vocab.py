"""Word lists for the synthetic retail sample (appliance.demo.sample): categories, product types, made-up brands,
shopper intents, review templates and the personal-data forms planted in reviews.

All lists are written for this project (no external data, no licence question). Brand names are invented; some
deliberately look like person names ("Ella Rose") so that anonymizers can be tested on them. Telephone numbers
come from ranges reserved for fiction (Ofcom 020 7946 0xxx and 07700 900xxx, NANP 555-01xx), e-mail domains are
RFC 2606 reserved names, and card numbers are the networks' published Luhn-valid test numbers.
"""

from __future__ import annotations

from typing import NamedTuple


class ProductType(NamedTuple):
    name: str  # singular noun used in titles and reviews
    path: tuple[str, str, str]  # hierarchical categories, department first
    median_price: float  # lognormal price centre for this type
    sizes: tuple[str, ...]  # size/variant strings; an empty tuple means "use a colour only"
    consumable: bool  # bought again (repeat purchases)


def _types(department: str, sub: str, rows: str) -> list[ProductType]:
    """Parse `leaf|name|price|size,size|c` rows (c marks a consumable) into ProductTypes."""
    out = []
    for row in rows.strip().splitlines():
        leaf, name, price, sizes, flag = (part.strip() for part in row.split("|"))
        out.append(ProductType(name, (department, sub, leaf), float(price),
                               tuple(s for s in sizes.split(",") if s), flag == "c"))
    return out


PRODUCT_TYPES: tuple[ProductType, ...] = tuple(
    _types("Beauty", "Skin Care", """
        Moisturizers|face moisturizer|18|50 ml,100 ml|c
        Cleansers|foaming cleanser|12|150 ml,250 ml|c
        Serums|vitamin C serum|24|30 ml|c
        Sunscreen|SPF 50 sunscreen|14|50 ml,200 ml|c
        Toners|hydrating toner|11|200 ml|c""")
    + _types("Beauty", "Hair Care", """
        Shampoo|shampoo|9|250 ml,500 ml|c
        Conditioner|conditioner|9|250 ml,500 ml|c
        Hair Oils|argan hair oil|16|100 ml|c
        Hair Masks|repair hair mask|13|200 ml|c
        Styling Tools|hair dryer|45|compact,salon|-""")
    + _types("Kitchen", "Cookware", """
        Frying Pans|frying pan|32|24 cm,28 cm|-
        Saucepans|saucepan|28|16 cm,20 cm|-
        Casseroles|dutch oven|70|4 l,6 l|-""")
    + _types("Kitchen", "Tools", """
        Knives|chef's knife|40|20 cm|-
        Utensils|silicone spatula|8|set of 2,set of 3|-
        Cutting Boards|cutting board|22|medium,large|-""")
    + _types("Kitchen", "Coffee & Tea", """
        Coffee Makers|french press|26|350 ml,1 l|-
        Grinders|burr coffee grinder|55|standard|-
        Coffee|whole bean coffee|11|250 g,1 kg|c""")
    + _types("Outdoor", "Camping", """
        Tents|two-person tent|120|2 person,3 person|-
        Sleeping Bags|sleeping bag|65|3 season,4 season|-
        Sleeping Mats|inflatable sleeping mat|38|regular,long|-
        Stoves|camping stove|35|compact|-
        Lighting|rechargeable headlamp|24|300 lumen,500 lumen|-""")
    + _types("Outdoor", "Hiking", """
        Boots|hiking boots|95|UK 7,UK 9,UK 11|-
        Backpacks|daypack|48|20 l,30 l|-
        Poles|trekking poles|34|pair|-
        Bottles|insulated water bottle|19|500 ml,750 ml|-""")
    + _types("Baby", "Feeding", """
        Bottles|anti-colic baby bottle|9|150 ml,260 ml|c
        Bibs|waterproof bib|7|pack of 3|c
        High Chairs|high chair|85|standard|-""")
    + _types("Baby", "Nursery", """
        Monitors|video baby monitor|70|standard|-
        Blankets|swaddle blanket|15|pack of 2|-
        Mobiles|cot mobile|28|standard|-""")
    + _types("Baby", "Changing", """
        Nappies|eco nappies|12|size 2,size 3,size 4|c
        Wipes|sensitive baby wipes|4|pack of 4,pack of 12|c""")
    + _types("Pet", "Dogs", """
        Dog Food|grain-free dog food|28|2 kg,6 kg|c
        Leads|reflective dog lead|14|1.5 m|-
        Beds|orthopaedic dog bed|50|medium,large|-
        Chew Toys|rubber chew toy|7|small,large|c""")
    + _types("Pet", "Cats", """
        Cat Food|wet cat food|10|12 pouches,24 pouches|c
        Litter|clumping cat litter|9|5 l,10 l|c
        Scratchers|sisal scratching post|25|60 cm,90 cm|-
        Cat Toys|feather wand toy|5|standard|c""")
    + _types("Electronics Accessories", "Phone", """
        Cases|phone case|15|slim,rugged|-
        Screen Protectors|tempered glass screen protector|8|pack of 2|-
        Cables|braided USB-C cable|10|1 m,2 m|-
        Power Banks|power bank|30|10000 mAh,20000 mAh|-""")
    + _types("Electronics Accessories", "Audio", """
        Earbuds|wireless earbuds|45||-
        Speakers|bluetooth speaker|40|mini,standard|-
        Headphones|over-ear headphones|75||-""")
    + _types("Books", "Cookbooks", """
        Baking|baking cookbook|18|hardback,paperback|-
        Quick Meals|30-minute meals cookbook|16|hardback,paperback|-""")
    + _types("Books", "Travel", """
        Guides|walking guide|14|paperback|-
        Maps|trail map|9|folded|-""")
    + _types("Books", "Children's Books", """
        Picture Books|picture book|8|hardback,board book|-
        Bedtime Stories|bedtime story collection|12|hardback|-""")
)

# Complementary next purchases: after the key type, these types are likely next (sequence-order signal).
COMPLEMENTS: dict[str, tuple[str, ...]] = {
    "two-person tent": ("sleeping bag", "inflatable sleeping mat", "camping stove"),
    "sleeping bag": ("inflatable sleeping mat", "rechargeable headlamp"),
    "camping stove": ("insulated water bottle", "rechargeable headlamp"),
    "hiking boots": ("trekking poles", "daypack"),
    "daypack": ("insulated water bottle", "trail map"),
    "walking guide": ("trail map", "hiking boots"),
    "shampoo": ("conditioner",),
    "conditioner": ("repair hair mask", "argan hair oil"),
    "foaming cleanser": ("hydrating toner", "face moisturizer"),
    "hydrating toner": ("vitamin C serum",),
    "vitamin C serum": ("face moisturizer", "SPF 50 sunscreen"),
    "frying pan": ("silicone spatula", "30-minute meals cookbook"),
    "saucepan": ("silicone spatula",),
    "dutch oven": ("baking cookbook", "cutting board"),
    "chef's knife": ("cutting board",),
    "french press": ("burr coffee grinder", "whole bean coffee"),
    "burr coffee grinder": ("whole bean coffee",),
    "anti-colic baby bottle": ("waterproof bib",),
    "high chair": ("waterproof bib",),
    "video baby monitor": ("cot mobile", "swaddle blanket"),
    "eco nappies": ("sensitive baby wipes",),
    "picture book": ("bedtime story collection",),
    "grain-free dog food": ("rubber chew toy",),
    "orthopaedic dog bed": ("rubber chew toy",),
    "wet cat food": ("clumping cat litter",),
    "sisal scratching post": ("feather wand toy",),
    "phone case": ("tempered glass screen protector",),
    "tempered glass screen protector": ("braided USB-C cable",),
    "power bank": ("braided USB-C cable",),
    "wireless earbuds": ("bluetooth speaker",),
}


class Intent(NamedTuple):
    name: str
    types: dict[str, float]  # product type, sub-category or "@Department" -> weight (spread over its types)
    price_tilt: float  # > 0 favours dearer items within a type, < 0 cheaper ones


INTENTS: tuple[Intent, ...] = (
    Intent("new parent", {"@Baby": 3.0, "picture book": 1.0, "bedtime story collection": 1.0,
                          "insulated water bottle": 0.3}, -0.5),
    Intent("home cook", {"@Kitchen": 3.0, "baking cookbook": 0.8, "30-minute meals cookbook": 0.8}, 0.3),
    Intent("coffee lover", {"french press": 1.0, "burr coffee grinder": 1.0, "whole bean coffee": 3.0}, 0.5),
    Intent("hiker", {"@Outdoor": 3.0, "walking guide": 1.0, "trail map": 1.0, "power bank": 0.5}, 0.2),
    Intent("skincare routine", {"Skin Care": 3.0, "argan hair oil": 0.3}, 0.4),
    Intent("hair care", {"Hair Care": 3.0}, -0.2),
    Intent("dog owner", {"Dogs": 3.0}, 0.0),
    Intent("cat owner", {"Cats": 3.0}, -0.3),
    Intent("tech commuter", {"@Electronics Accessories": 3.0, "insulated water bottle": 0.4}, 0.6),
    Intent("gift shopper", {"vitamin C serum": 1.0, "bluetooth speaker": 1.0, "baking cookbook": 1.0,
                            "french press": 1.0, "over-ear headphones": 1.0, "argan hair oil": 1.0}, 1.0),
)

# Made-up brands and the departments they sell in; the first block looks like person names on purpose.
BRANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Ella Rose", ("Beauty",)),
    ("Marco Polo Home", ("Kitchen", "Outdoor")),
    ("Jack Fennel", ("Outdoor",)),
    ("Hattie Lane", ("Baby", "Books")),
    ("Oscar Finch", ("Pet",)),
    ("Sophie Marlow", ("Beauty", "Baby")),
    ("Lumio", ("Electronics Accessories",)),
    ("Voltwise", ("Electronics Accessories",)),
    ("Dunmore & Pike", ("Outdoor",)),
    ("Ridgeback Gear", ("Outdoor", "Pet")),
    ("Copperleaf", ("Kitchen",)),
    ("Sable Street", ("Kitchen", "Books")),
    ("Brewhaven", ("Kitchen",)),
    ("Petalwise", ("Beauty",)),
    ("Glowfield", ("Beauty",)),
    ("Aquessa", ("Beauty",)),
    ("Little Otter", ("Baby",)),
    ("Bramblebun", ("Baby", "Books")),
    ("Pawlish", ("Pet",)),
    ("Whisker & Co", ("Pet",)),
    ("Northvale", ("Outdoor", "Electronics Accessories")),
    ("Kestrel Press", ("Books",)),
    ("Quillby Books", ("Books",)),
    ("Tinderbox Audio", ("Electronics Accessories",)),
    ("Homestead Basics", ("Kitchen", "Baby", "Pet", "Beauty")),
)

ADJECTIVES = ("classic", "everyday", "premium", "lightweight", "compact", "deluxe", "essential", "ultra-soft",
              "eco", "pro", "gentle", "heavy-duty", "travel", "signature", "natural", "advanced")
MATERIALS = {  # per department: what the first description sentence says an item is made with
    "Beauty": ("aloe vera", "plant-based ingredients", "shea butter", "hyaluronic acid", "argan oil"),
    "Kitchen": ("stainless steel", "cast iron", "bamboo", "oak", "borosilicate glass", "single-origin beans"),
    "Outdoor": ("ripstop nylon", "recycled polyester", "aluminium", "merino wool", "stainless steel"),
    "Baby": ("organic cotton", "BPA-free plastic", "bamboo fibre", "beech wood"),
    "Pet": ("natural rubber", "recycled polyester", "sisal", "British chicken", "wild salmon"),
    "Electronics Accessories": ("recycled plastic", "aluminium", "tempered glass", "braided nylon"),
    "Books": ("recycled paper", "FSC-certified paper", "thick card"),
}
COLOURS = ("black", "white", "sage green", "navy", "charcoal", "blush pink", "sand", "forest green", "red",
           "sky blue", "mustard", "grey")
USES = {
    "Beauty": ("a simple daily routine", "sensitive skin and hair", "a quick morning routine"),
    "Kitchen": ("weeknight cooking", "batch cooking at the weekend", "a small kitchen"),
    "Outdoor": ("weekend hikes", "wild camping", "long days on the trail"),
    "Baby": ("the first year", "busy parents", "nights and naps"),
    "Pet": ("dogs and cats of every age", "fussy pets", "everyday walks and play"),
    "Electronics Accessories": ("the daily commute", "travel", "working from anywhere"),
    "Books": ("curious readers", "gifting", "rainy afternoons"),
}
DESCRIPTION_TEMPLATES = (
    "A {adj} {type} made from {material}.",
    "Designed for {use}.",
    "Comes in {variant}.",
    "Backed by a 30-day return policy.",
    "Part of the {brand} range.",
)

ASPECTS = {  # per sub-category or else department: (praise, complaint), verb phrases that read after "It"
    "Beauty": (("absorbs quickly", "smells lovely", "left my skin soft", "lasts for ages"),
               ("made my skin itch", "smells too strong", "broke at the pump", "felt greasy")),
    "Kitchen": (("heats evenly", "feels solid", "cleans up easily", "looks great on the counter"),
                ("lost its coating", "gets hot at the handle", "rusted after a month", "arrived scratched")),
    "Outdoor": (("kept us dry", "packs down small", "is easy to set up", "stays comfortable on long walks"),
                ("leaked in the rain", "broke at the zip", "is heavier than expected", "rubbed my heels")),
    "Baby": (("keeps our little one happy", "is easy to wash", "feels safe and sturdy", "is great for night feeds"),
             ("leaked everywhere", "was hard to assemble", "caused a rash", "fell apart quickly")),
    "Dogs": (("drives my dog wild", "survived months of chewing", "is good value", "suits big dogs too"),
             ("fell apart in a day", "upset his stomach", "smells odd", "frayed within a week")),
    "Cats": (("keeps the cat busy", "is good value", "won over our fussy cat", "stays tidy"),
             ("bores the cat", "smells odd", "tipped over at once", "upset her stomach")),
    "Hair Care": (("left my hair soft", "smells lovely", "tamed the frizz", "lasts for ages"),
                  ("made my scalp itch", "smells too strong", "left my hair greasy", "broke at the cap")),
    "Electronics Accessories": (("charges fast", "fits perfectly", "sounds crisp", "lasts all day"),
                                ("stopped charging", "does not fit", "crackles at high volume", "drains fast")),
    "Books": (("is beautifully illustrated", "has recipes that actually work", "is a joy to read",
               "is well organised"),
              ("is full of typos", "lost pages within a week", "is not what the cover suggests", "is hard to follow")),
}
REVIEW_OPENERS = {
    "pos": ("Really happy with this {type}.", "Great {type}, would buy again.", "Love this {type}!",
            "Best {type} I have owned."),
    "mid": ("This {type} is okay.", "Decent {type} for the price.", "Mixed feelings about this {type}."),
    "neg": ("Disappointed with this {type}.", "Would not recommend this {type}.", "This {type} is poor."),
}
REVIEW_DETAILS = {
    "pos": ("It {praise}.", "It {praise} and {praise2}.", "{brand} never disappoints."),
    "mid": ("It {praise} but {complaint}.", "Good that it {praise}, shame it {complaint}."),
    "neg": ("It {complaint}.", "It {complaint} and {complaint2}.", "Expected more from {brand}."),
}

# Personal data for planted reviews. Several first names double as ordinary words (will, mark, grace, hope).
FIRST_NAMES = ("sarah", "james", "priya", "dave", "emma", "tom", "aisha", "lucy", "mohammed", "chloe", "will",
               "mark", "grace", "hope", "oliver", "fatima", "liam", "zoe", "kwame", "ingrid", "rajesh", "megan")
SURNAMES = ("Mitchell", "Okafor", "Patel", "Nowak", "Fraser", "Campbell", "O'Connor", "Schmidt", "Ahmed", "Lewis",
            "Hughes", "van der Berg", "Kowalski", "Taylor", "Nguyen", "Murphy", "Brennan", "Silva")
RELATIONS = ("husband", "wife", "son", "daughter", "mum", "brother", "sister", "partner")
STREETS = ("Hawthorn Road", "Mill Lane", "Station Street", "Maple Avenue", "Church Walk", "Kingsley Close",
           "Elm Grove", "Harbour View", "Birch Crescent", "Oak Drive", "Queensway", "Lindenstrasse")
TOWNS = ("Leeds", "Bristol", "Glasgow", "Springfield", "Portland", "Cardiff", "Hamburg", "Norwich")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.co.uk")
TEST_CARDS = ("4111 1111 1111 1111", "4242 4242 4242 4242", "5555 5555 5555 4444", "5105 1051 0510 5100",
              "4012 8888 8888 1881", "3782 822463 10005", "6011 1111 1111 1117")
