"""`tanaban ingest embeddings|lists` then `tanaban evaluate --model champion,imported` through the CLI runner: the
"yours vs ours" report, the line about customers without a list, and one-line refusals that store nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

N_CUSTOMERS, N_ITEMS = 5, 7


@pytest.fixture
def tanaban(cli_runner: CliRunner, config_file: Path, tmp_path: Path):
    """An initialised appliance with 7 items and 5 customers who each bought 4 of them."""
    def run(*args: str):
        return cli_runner.invoke(app, ["--config", str(config_file), *args])

    assert run("init").exit_code == 0
    (tmp_path / "items.csv").write_text("sku,title\n" + "".join(f"S{i},Item {i}\n" for i in range(N_ITEMS)))
    rows = [f"shopper-{c},S{(c + j) % N_ITEMS},2024-05-0{j + 1}T10:00:00+00:00" for c in range(N_CUSTOMERS)
            for j in range(4)]
    (tmp_path / "orders.csv").write_text("customer_id,sku,timestamp\n" + "\n".join(rows) + "\n")
    assert run("ingest", "items", str(tmp_path / "items.csv")).exit_code == 0
    assert run("ingest", "interactions", str(tmp_path / "orders.csv")).exit_code == 0
    return run


def test_yours_vs_ours(tanaban, tmp_path: Path) -> None:
    vectors = tmp_path / "vec.csv"
    vectors.write_text("sku,vector\n" + "".join(f"S{i},{i % 3} {i % 2} 1\n" for i in range(N_ITEMS)) + "X9,1 1 1\n")
    result = tanaban("ingest", "embeddings", str(vectors), "--metric", "cosine")
    assert result.exit_code == 0, result.output
    assert "8 vectors of dimension 3 read, 7 of the store's items (87.5% coverage), scored by cosine" in result.output
    lists = tmp_path / "top.jsonl"  # shopper-4 has no list; one SKU is unknown
    lists.write_text("".join(f'{{"customer_id": "shopper-{c}", "items": ["S{(c + 4) % N_ITEMS}", "GONE"]}}\n'
                             for c in range(N_CUSTOMERS - 1)))
    result = tanaban("ingest", "lists", str(lists))
    assert result.exit_code == 0, result.output
    assert "4 lists read; 4 customers known to the store, 0 unknown (left out); 4 items kept (top 1), 4 unknown " \
           "SKUs dropped" in result.output
    result = tanaban("evaluate", "--model", "champion,imported,popularity")
    assert result.exit_code == 0, result.output
    assert f"champion: 1 of {N_CUSTOMERS} customers have no champion list: their empty list counts as a miss" \
        in result.output
    assert all(name in result.output for name in ("champion", "imported", "popularity"))
    assert "shopper-" not in result.output


@pytest.mark.parametrize(("command", "content", "message"), [
    ("embeddings", "sku,vector\nS0,1 2\nS1,1\n", "vec.csv:3: 1 dimensions where the first vector has 2"),
    ("embeddings", "sku,vector\nS0,1 2\nQ1,1 2\nQ2,1 2\n", "below --min-coverage 50%"),
    ("lists", "customer_id,rank,sku\nshopper-1,1,S1\nshopper-1,1,S2\n", "vec.csv:3: rank: repeated"),
])
def test_bad_files_are_one_line_errors(tanaban, tmp_path: Path, command: str, content: str, message: str) -> None:
    path = tmp_path / "vec.csv"
    path.write_text(content)
    result = tanaban("ingest", command, str(path))
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert "shopper-" not in result.output
    assert not [*(tmp_path / "data").rglob("cf-imported"), *(tmp_path / "data").rglob("champion-lists")]
