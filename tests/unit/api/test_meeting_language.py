"""Meeting languages over the real app and database: create, upload, correct, refuse.

The model side is the ``LocalBackend`` edge with the CPU profile's language routes (tiny.en
first, multilingual base second), as the Ingress gets them from the builder.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from core.languages import ENGLISH, WHISPER_LANGUAGES, LanguageRouter, ModelRoute
from persistence import Database, JobAlreadyActiveError, create_job
from processor_api.backend import LocalBackend
from settings.config import Settings
from tests.unit.api.conftest import Account, Api
from tests.unit.api.test_audio_routes import upload, wav_bytes

CPU_ROUTES = LanguageRouter(
    (
        ModelRoute("Transcriber", frozenset({ENGLISH})),
        ModelRoute("MultilingualTranscriber", frozenset(WHISPER_LANGUAGES)),
    )
)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings, LocalBackend(router=CPU_ROUTES))


def create(client: TestClient, account: Account, **body: object):  # type: ignore[no-untyped-def]
    return client.post("/api/meetings", json={"title": "Riunione", **body}, headers=account.headers)


def test_default_meeting_keeps_todays_behaviour(api: Api, alice: Account) -> None:
    meeting = api.create_meeting(alice)
    assert meeting["language"] is None
    assert meeting["spoken_language"] is None
    assert meeting["translate_to"] is None


def test_auto_and_code_are_stored(client: TestClient, alice: Account) -> None:
    r = create(client, alice, language="auto", translate_to="en")
    assert r.status_code == 201, r.text
    assert (r.json()["language"], r.json()["spoken_language"]) == ("auto", None)
    assert r.json()["translate_to"] == "en"
    r = create(client, alice, language="IT")
    assert (r.json()["language"], r.json()["spoken_language"]) == ("it", "it")


def test_unsupported_language_is_a_clear_400(client: TestClient, alice: Account) -> None:
    r = create(client, alice, language="xx")
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert detail["code"] == "unsupported_language"
    assert detail["language"] == "xx"
    assert "not a language Whisper knows" in detail["message"]
    assert "it" in detail["supported"] and detail["detection"] is True


@pytest.mark.parametrize("language", ["", "italiano", "e1", "auto;drop"])
def test_malformed_language_is_422(client: TestClient, alice: Account, language: str) -> None:
    assert create(client, alice, language=language).status_code == 422


def test_only_english_captions(client: TestClient, alice: Account) -> None:
    assert create(client, alice, language="it", translate_to="fr").status_code == 422


def test_english_only_profile_refuses_other_languages_and_auto(
    settings: Settings, alice: Account
) -> None:
    with TestClient(create_app(settings, LocalBackend())) as client:
        token = {"Authorization": alice.headers["Authorization"]}
        r = client.post("/api/meetings", json={"title": "x", "language": "it"}, headers=token)
        assert r.status_code == 400, r.text
        assert "this profile serves: en" in r.json()["detail"]["message"]
        r = client.post("/api/meetings", json={"title": "x", "language": "auto"}, headers=token)
        assert r.status_code == 400
        assert "Language detection needs a multilingual model" in r.json()["detail"]["message"]
        r = client.post("/api/meetings", json={"title": "x", "translate_to": "en"}, headers=token)
        assert r.status_code == 400


def test_upload_takes_language_and_validates_it(
    client: TestClient, app: FastAPI, api: Api, alice: Account
) -> None:
    meeting = api.create_meeting(alice)
    r = client.post(
        f"/api/meetings/{meeting['id']}/audio?language=zz",
        files={"file": ("m.wav", wav_bytes(), "audio/wav")},
        headers=alice.headers,
    )
    assert r.status_code == 400 and r.json()["detail"]["code"] == "unsupported_language"
    assert app.state.backend.submitted == []
    r = client.post(
        f"/api/meetings/{meeting['id']}/audio?language=auto&translate_to=en",
        files={"file": ("m.wav", wav_bytes(), "audio/wav")},
        headers=alice.headers,
    )
    assert r.status_code == 202, r.text
    stored = client.get(f"/api/meetings/{meeting['id']}", headers=alice.headers).json()
    assert (stored["language"], stored["translate_to"]) == ("auto", "en")


def test_editor_corrects_language_without_rerunning(
    client: TestClient, app: FastAPI, api: Api, alice: Account, bob: Account
) -> None:
    meeting = create(client, alice, language="auto").json()
    api.share(alice, meeting["id"], bob.email, "editor")
    r = client.patch(f"/api/meetings/{meeting['id']}", json={"language": "fi"}, headers=bob.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["language"], r.json()["spoken_language"]) == ("fi", "fi")
    assert r.json()["language_probability"] is None
    assert app.state.backend.submitted == []


def test_patch_access_rules(client: TestClient, api: Api, alice: Account, bob: Account) -> None:
    meeting = api.create_meeting(alice)
    url = f"/api/meetings/{meeting['id']}"
    assert client.patch(url, json={"language": "it"}, headers=bob.headers).status_code == 404
    api.share(alice, meeting["id"], bob.email, "viewer")
    assert client.patch(url, json={"language": "it"}, headers=bob.headers).status_code == 403
    assert client.patch(url, json={"language": "xx"}, headers=alice.headers).status_code == 400
    assert client.patch(url, json={"language": "it"}).status_code == 401


def test_reprocess_reruns_the_stored_upload(
    client: TestClient, app: FastAPI, api: Api, alice: Account, db: Database
) -> None:
    meeting = api.create_meeting(alice)
    url = f"/api/meetings/{meeting['id']}"
    r = client.patch(url, json={"language": "it", "reprocess": True}, headers=alice.headers)
    assert r.status_code == 409 and "no stored upload" in r.json()["detail"]
    assert upload(client, alice, meeting["id"], wav_bytes()).status_code == 202
    [first] = app.state.backend.submitted
    r = client.patch(url, json={"language": "it", "reprocess": True}, headers=alice.headers)
    assert r.status_code == 409, "the first job is still queued"
    with db.session() as session:  # the LocalBackend never finishes jobs: finish it by hand
        from persistence import update_job

        update_job(session, first.job_id, status="completed")
    r = client.patch(url, json={"language": "it", "reprocess": True}, headers=alice.headers)
    assert r.status_code == 200, r.text
    second = app.state.backend.submitted[-1]
    assert second.audio_path == first.audio_path and second.job_id != first.job_id
    with db.session() as session, pytest.raises(JobAlreadyActiveError):
        create_job(session, meeting["id"])


def test_translated_export(client: TestClient, api: Api, alice: Account, db: Database) -> None:
    from core.types import Segment
    from persistence import save_segments

    meeting = api.create_meeting(alice)
    with db.session() as session:
        save_segments(
            session,
            meeting["id"],
            [
                Segment(
                    "w0-0",
                    "S0",
                    "Buongiorno a tutti.",
                    0.0,
                    1.5,
                    0,
                    [],
                    "Good morning all.",
                )
            ],
        )
    url = f"/api/meetings/{meeting['id']}/transcript?format=txt"
    original = client.get(url, headers=alice.headers).text
    assert original == "[00:00:00] S0: Buongiorno a tutti.\n"
    english = client.get(url + "&text=translation", headers=alice.headers).text
    assert english == "[00:00:00] S0: Good morning all.\n"
    both = client.get(url + "&text=both", headers=alice.headers).text
    assert both == "[00:00:00] S0: Buongiorno a tutti. [Good morning all.]\n"
    data = client.get(url.replace("txt", "json"), headers=alice.headers).json()
    assert data["segments"][0]["translation"] == "Good morning all."
    assert client.get(url + "&text=klingon", headers=alice.headers).status_code == 422


def test_live_start_takes_the_language_and_refuses_unsupported_ones(
    client: TestClient, api: Api, alice: Account, db: Database
) -> None:
    import json

    from starlette.websockets import WebSocketDisconnect

    from persistence.languages import get_language_settings

    meeting = api.create_meeting(alice)
    url = f"/ws/meeting/{meeting['id']}/audio"
    protocols = ["bearer", alice.token]
    with client.websocket_connect(url, subprotocols=protocols) as ws:
        ws.send_text(json.dumps({"type": "start", "sample_rate": 16000, "language": "xx"}))
        error = ws.receive_json()
        assert (error["type"], error["code"]) == ("error", "unsupported_language")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 4400
    start = {"type": "start", "sample_rate": 16000, "language": "auto", "translate_to": "en"}
    with client.websocket_connect(url, subprotocols=protocols) as ws:
        ws.send_text(json.dumps(start))
        with pytest.raises(WebSocketDisconnect):  # the LocalBackend has no Processor
            ws.receive_text()
    with db.session() as session:
        stored = get_language_settings(session, meeting["id"])
    assert (stored.language, stored.translate_to) == ("auto", "en")
