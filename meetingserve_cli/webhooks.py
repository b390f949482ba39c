"""``meetingserve webhooks ...``: register, list, delete webhooks and read their delivery log."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from meetingserve_cli.api import ApiClient
from meetingserve_cli.config import resolve_credentials

app = typer.Typer(help="Webhooks: signed callbacks for completed / failed / summary events.")


class WebhookEvent(StrEnum):
    completed = "completed"
    failed = "failed"
    summary = "summary"


def client(ctx: typer.Context) -> ApiClient:
    creds = resolve_credentials(ctx.obj)
    creds.require_token()
    return ApiClient(creds)


def show(rows: list[dict[str, Any]], columns: list[str], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(*columns, box=None)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    Console(soft_wrap=True).print(table)


@app.command("add")
def add_webhook(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="Callback URL (http or https).")],
    meeting: Annotated[
        str | None, typer.Option("--meeting", help="Only this meeting (default: all you own).")
    ] = None,
    event: Annotated[
        list[WebhookEvent] | None, typer.Option("--event", help="Repeat; default: all three.")
    ] = None,
) -> None:
    """Register a webhook; prints its id and signing secret (shown only this once)."""
    body: dict[str, Any] = {"url": url, "meeting_id": meeting}
    if event:
        body["events"] = [e.value for e in event]
    with client(ctx) as api:
        hook = api.json("Add webhook", "POST", "/api/webhooks", json=body)
    print(json.dumps({"id": hook["id"], "secret": hook["secret"]}))
    typer.echo("Store the secret now: it is not shown again.", err=True)


@app.command("list")
def list_webhooks(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Your webhooks."""
    with client(ctx) as api:
        rows = api.json("List webhooks", "GET", "/api/webhooks")
    show(rows, ["id", "url", "meeting_id", "events"], as_json)


@app.command("rm")
def remove_webhook(ctx: typer.Context, webhook_id: str) -> None:
    """Delete a webhook (its pending deliveries are dropped)."""
    with client(ctx) as api:
        api.request("Delete webhook", "DELETE", f"/api/webhooks/{webhook_id}")
    typer.echo(f"Deleted webhook {webhook_id}", err=True)


@app.command("deliveries")
def list_deliveries(
    ctx: typer.Context,
    webhook_id: str,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The delivery log of a webhook, newest first."""
    with client(ctx) as api:
        rows = api.json("Deliveries", "GET", f"/api/webhooks/{webhook_id}/deliveries")
    columns = ["event_id", "event_type", "status", "attempts", "last_status_code", "last_error"]
    show(rows, columns, as_json)
