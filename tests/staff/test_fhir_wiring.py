import json
from fhir.resources.bundle import Bundle
from fhir.resources import construct_fhir_element
from bot.staff.__main__ import main
from bot.store.database import make_engine, make_session_factory
from bot.store.models import AuditEntry
from sqlalchemy import select


def test_transcript_page_links_fhir(admin_client, app):
    ids = app.config["SEEDED"]
    page = admin_client.get(f"/conversations/{ids['emergency']}").get_data(as_text=True)
    assert f"/conversations/{ids['emergency']}/export.fhir" in page
    response = admin_client.get(f"/conversations/{ids['emergency']}/export.fhir")
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    assert "conversation-%d.fhir.json" % ids['emergency'] in response.headers["Content-Disposition"]
    bundle = Bundle.parse_raw(response.get_data(as_text=True))
    kinds = [e.resource.resource_type for e in bundle.entry]
    assert "RiskAssessment" in kinds and kinds.count("Patient") == 1
    listing = admin_client.get("/conversations?level=emergency").get_data(as_text=True)
    assert "export.fhir-ndjson?level=emergency" in listing
    lines = admin_client.get("/conversations/export.fhir-ndjson?level=emergency").get_data(as_text=True).splitlines()
    rs = [construct_fhir_element(json.loads(line)["resourceType"], line) for line in lines]
    assert sum(r.resource_type == "Patient" for r in rs) == 2


def test_cli(sqlite_database, tmp_path, monkeypatch, capsys):
    from tests.staff.seed import seed
    ids = seed(sqlite_database.url)
    monkeypatch.setenv("DATABASE_URL", sqlite_database.url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    assert main(["export", "--format", "fhir", "--id", str(ids["emergency"])]) == 0
    out = capsys.readouterr().out
    bundle = Bundle.parse_raw(out)
    assert any(e.resource.resource_type == "RiskAssessment" for e in bundle.entry)
    assert main(["export", "--format", "fhir-transaction", "--id", str(ids["doctor"])]) == 0
    transaction = Bundle.parse_raw(capsys.readouterr().out)
    assert transaction.type == "transaction" and all(e.request.method == "PUT" for e in transaction.entry)
    assert main(["export", "--format", "fhir-ndjson", "--level", "emergency"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(construct_fhir_element(json.loads(line)["resourceType"], line) for line in lines)
    engine = make_engine(sqlite_database.url)
    with make_session_factory(engine)() as s:
        details = [a.detail for a in s.scalars(select(AuditEntry))]
    print(details)
    assert details[-1]["format"] == "fhir-ndjson" and details[-1]["count"] == 2
