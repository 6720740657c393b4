"""Sample data of the example platform API: devices, each in one client group.

A caller restricted to client groups sees only the devices of those groups; a caller without
groups sees every device (``Caller.can_access``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from gatepass_sdk import Caller


@dataclass(frozen=True)
class Device:
    name: str
    group: str
    os: str
    crashes_7d: int


DEVICES = (
    Device("lon-ws-001", "emea", "Windows 11", 0),
    Device("par-lt-014", "emea", "macOS 15", 3),
    Device("ber-ws-102", "emea", "Windows 10", 7),
    Device("nyc-ws-203", "americas", "Windows 11", 1),
    Device("sao-lt-077", "americas", "Ubuntu 24.04", 0),
)

# What each trigger endpoint may start (the "catalog" of remote actions, workflows, campaigns).
REMOTE_ACTIONS = frozenset({"restart_agent", "clear_browser_cache"})
WORKFLOWS = frozenset({"onboard_device", "reset_vpn"})
CAMPAIGNS = frozenset({"satisfaction_survey", "reboot_reminder"})
ENRICHMENT_FIELDS = frozenset({"cost_center", "location"})


def visible_devices(caller: Caller) -> list[Device]:
    return [device for device in DEVICES if caller.can_access(device.group)]


def find_device(caller: Caller, name: str) -> Device | None:
    """The device, if it exists *and* the caller may see it: otherwise the same ``None``."""
    return next((d for d in visible_devices(caller) if d.name == name), None)


def device_rows(caller: Caller) -> list[dict[str, Any]]:
    return [asdict(device) for device in visible_devices(caller)]


def nql_rows(caller: Caller, query_id: str) -> list[dict[str, Any]] | None:
    """Results of a stored NQL query over the caller's devices; ``None`` for an unknown one."""
    devices = visible_devices(caller)
    if query_id == "device_inventory":
        return [{"device": d.name, "os": d.os, "group": d.group} for d in devices]
    if query_id == "crashes_last_7_days":
        return [{"device": d.name, "crashes": d.crashes_7d} for d in devices if d.crashes_7d]
    return None


def caller_view(caller: Caller) -> dict[str, Any]:
    """Who the SDK says is calling, as ``GET /me`` shows it."""
    view: dict[str, Any] = {name: getattr(caller, name) for name in CALLER_FIELDS}
    return {**view, "permissions": sorted(caller.permissions), "groups": list(caller.groups)}


CALLER_FIELDS = ("subject", "kind", "name", "owner")
