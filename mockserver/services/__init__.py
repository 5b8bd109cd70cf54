"""The registry of services: id -> the Service declared by its package."""
from __future__ import annotations

import importlib

from ..core.service import Service

#: service id -> package under mockserver.services; adding a service is one line here
PACKAGES: dict[str, str] = {
    "nrao-ods": "nrao_ods",
    "dsn": "dsn",
    "okapi": "okapi",
    "mmoda": "mmoda",
    "lco-observe": "lco_observe",
    "lco-archive": "lco_archive",
    "lco-thumbnails": "lco_thumbnails",
}


def service_ids() -> list[str]:
    return list(PACKAGES)


def get_service(service_id: str) -> Service:
    if service_id not in PACKAGES:
        known = ", ".join(PACKAGES)
        raise KeyError(f"unknown service {service_id!r}; known services: {known}")
    module = importlib.import_module(f"{__name__}.{PACKAGES[service_id]}")
    return module.SERVICE
