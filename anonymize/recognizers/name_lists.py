"""Gazetteers for the name recognizer: common first names and surnames in the UK and US (the most frequent
entries of the ONS baby-name and US SSA / Census surname tables, written out by hand), and the first names that are
also ordinary English words, which count as names only with context.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FIRST_NAMES = _words("""
aaron abby abigail adam adrian aidan aisha alan albert alex alexander alexandra alfie alice alison amanda amelia amy
andrea andrew andy angela anita ann anna anne annie anthony archie arthur ashley barbara becky ben benjamin beth
bethany betty beverley bob bobby brenda brian bridget bruce caitlin callum cameron carl carla carol caroline carolyn
catherine charles charlie charlotte chloe chris christine christopher claire clare colin connor craig cynthia daisy
dan daniel danielle danny darren dave david dean debbie deborah debra denise dennis derek diana diane dominic donald
donna doris dorothy doug douglas dylan edward eleanor elizabeth ella ellie emily emma eric erin ethan eva evelyn
fiona frances francesca frank fred freddie freya gail gareth gary gavin gemma george georgia gerald gillian gloria
gordon graham greg gregory hannah harold harriet harry harvey heather helen henry holly howard ian isaac isabel
isabella isabelle isla jack jackie jacob jacqueline jade jake james jamie jane janet janice jason jean jeff jeffrey
jen jennifer jenny jeremy jessica jim jimmy joan joanna joanne joe joel john jon jonathan jordan joseph josh joshua
joyce judith judy julia julie justin karen kate katherine kathleen kathryn kathy katie keith kelly ken kenneth kerry
kevin kieran kim kimberly kirsty laura lauren lee leo leon lewis liam lily linda lisa liz logan louis louise lucas
lucy luke lydia lynn maisie margaret maria marie marilyn martin mary matt matthew maureen megan melanie melissa mia
michael michelle mike mohammed molly nancy naomi natalie nathan neil nicholas nick nicola nicole niamh noah oliver
olivia oscar owen paige pamela patricia patrick paul paula peter philip phoebe phil poppy rachel ralph raymond
rebecca richard rick rob robert robin roger ronald rosie ross ruth ryan sally sam samantha samuel sandra sara sarah
scott sean sharon shaun sheila shirley simon sophia sophie stacey stephanie stephen steve steven stuart susan
suzanne tara teresa terry theo theresa thomas tim timothy tina toby todd tom tommy tony tracey tracy vanessa vicky
victoria vincent walter wayne wendy william zach zoe priya raj rahul aditya ananya fatima omar ali ahmed hassan
yusuf zainab ayesha wei li mei chen hiroshi yuki kenji sakura carlos juan jose luis miguel sofia lucia mateo diego
elena marco giulia luca pierre sophie camille hans anja lukas katarina olga ivan dmitri agnieszka tomasz piotr kasia
siobhan aoife ciaran declan niall sinead kwame ama kofi chidi ngozi tunde amara
""")

AMBIGUOUS = _words("""
will mark rose jack grace summer april may june august bill pat dawn hope joy faith ella sandy ginger amber olive
ruby crystal violet lily daisy holly ivy iris jade pearl rusty sky river rich penny chase hunter mason rob sue don
art frank gene ray max guy drew bob
""")  # first names that are also ordinary words: a name only next to a relation word or a surname

SURNAMES = _words("""
smith jones williams taylor brown davies evans wilson thomas johnson roberts robinson thompson wright walker white
edwards hughes green hall lewis harris clarke clark patel jackson wood turner martin cooper hill ward morris moore
clarkson lee king baker harrison morgan allen james scott phillips watson davis parker price bennett young griffiths
mitchell kelly cook carter richardson bailey collins bell shaw murphy miller cox richards khan marshall anderson
simpson ellis adams singh begum wilkinson foster chapman powell webb rogers gray mason ali hunt holmes palmer
campbell mills barnes knight lloyd butler russell barker fisher stevens jenkins murray dixon harvey graham pearson
ahmed fletcher walsh kaur gibson howard andrews stewart elliott reynolds saunders payne fox ford pearce day brooks
west lawrence cole atkinson bradley spencer gill dawson ball burton o'brien watts rose booth perry ryan grant wells
armstrong francis rees hayes hart hudson newman barrett webster hunter gregory carr lowe page marsh riley dunn woods
parsons berry stone reid holland hawkins harding porter robertson newton oliver reed kennedy williamson bird gardner
shah dean lane cooke bates henderson parry burgess bishop walton burns nicholson shepherd ross cross long freeman
warren nicholls hamilton byrne sutton mcdonald yates hodgson robson curtis hopkins o'connor harper coleman watkins
moss mccarthy chambers o'neill griffin sharp hardy wheeler potter osborne johnston gordon doyle wallace george
jordan hutchinson rowe burke may pritchard gilbert willis higgins read miles stevenson stephenson hammond arnold
buckley walters hewitt barber nelson slater austin sullivan whitehead mann frost lambert stephens blake akhtar lynch
goodwin barton woodward thomson cunningham quinn barnett baxter bibi clayton nash greenwood jennings holt kemp poole
gallagher garcia rodriguez martinez hernandez lopez gonzalez perez sanchez nguyen kim chen wang li zhang liu yang
tanaka suzuki sato muller schmidt schneider fischer weber kowalski nowak wisniewski rossi russo ferrari dubois
moreau okafor okonkwo mensah
""")

COMMON_WORDS = _words("""
the a an and or but is was are were it this that my our your his her their i you he she we they to of in on at for
with from by as so very really too just not no yes love loved loves like likes liked bought got gets said says says
thinks thought uses used wears wore and also who which when where what how if then than has had have will would can
could should did does do am be been may might must being its it's im i'm gift gifts present for nice great good bad
""")  # never a name on their own (ruling out "gift for her")

RELATION_WORDS = (  # words that make the next word (in any case) a person's name
    "husband", "wife", "son", "daughter", "mum", "mom", "mother", "dad", "father", "brother", "sister", "friend",
    "partner", "boyfriend", "girlfriend", "fiance", "fiancee", "colleague", "boss", "neighbour", "neighbor", "aunt",
    "auntie", "uncle", "grandma", "grandad", "granddad", "grandpa", "granny", "nan", "nana", "niece", "nephew",
    "cousin", "kid", "baby", "toddler", "named", "called", "name is", "name's", "i'm", "im", "i am", "this is",
    "regards", "thanks", "thank you", "cheers", "love", "dear", "hi", "hello", "hey", "signed", "from", "ask for",
    "sister-in-law", "mother-in-law", "stepson", "stepdaughter", "flatmate", "roommate", "customer", "courier",
    "driver", "assistant", "stylist", "helped by", "served by",
)
# Not a name even right after "my husband": frequent verbs, adverbs and fillers that end in no tell-tale suffix.
NOT_AFTER_RELATION = _words("""
gave give gives took take takes made make makes never always also still just even really said say told tell asked
wanted needed need got get gets bought buy buys sent came come comes went go goes saw see sees found find thought
felt feel kept keep left put let tried try ate eat wore wear wears swore brought bring found there again all guys
team everyone much lot loads though anyway now today tonight here too only actually absolutely totally definitely
usually often sometimes already both who whose whom which what when while where why how hates hate adore adores
recommend recommends insists insist prefers prefer works work worked noticed notice reckons reckon agrees agree
customer customers agent client caller support service staff advisor operator
""")  # the last line: chat roles ("Thanks | Customer: ..."), never the name after a thank-you

TITLES = ("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "lady", "lord")
