"""Checks fhir.resources 6.4 records in its models but does not enforce: that a code is one of its
element's required values, and that a reference points at a resource of a type the element allows
and that is there. A FHIR server (HAPI) refuses a Bundle that breaks them."""
from __future__ import annotations

import json
from typing import Dict, Iterable, List, Optional

from fhir.resources import construct_fhir_element
from fhir.resources.core.fhirabstractmodel import FHIRAbstractModel
from fhir.resources.reference import Reference
from fhir.resources.resource import Resource


def _values(value) -> list:
    return value if isinstance(value, list) else [value]


def problems_in(model: FHIRAbstractModel, types_by_reference: Dict[str, str], where: str) -> List[str]:
    found: List[str] = []
    for name, field in model.__fields__.items():
        value = getattr(model, name, None)
        if value is None or name.endswith("__ext"):
            continue
        extra = field.field_info.extra
        allowed = extra.get("enum_values")
        if allowed and "+" not in allowed:
            found += [f"{where}.{name}: {v!r} is not one of {allowed}" for v in _values(value) if v not in allowed]
        targets = extra.get("enum_reference_types")
        for item in _values(value):
            if isinstance(item, Reference) and targets and item.reference:
                target = types_by_reference.get(item.reference)
                if target is None:
                    found.append(f"{where}.{name}: {item.reference} is not in the export")
                elif target not in targets and "Resource" not in targets:
                    found.append(f"{where}.{name}: a {target} where {targets} are allowed")
            if isinstance(item, FHIRAbstractModel):
                found += problems_in(item, types_by_reference, f"{where}.{name}")
    return found


def bundle_problems(bundle) -> List[str]:
    """For a Bundle: unique urn:uuid fullUrls matching each resource's id, then every entry's codes and references."""
    urls = [entry.fullUrl for entry in bundle.entry or []]
    found = [f"fullUrl {url} appears twice" for url in set(urls) if urls.count(url) > 1]
    types = {}
    for entry in bundle.entry or []:
        resource = entry.resource
        if entry.fullUrl != f"urn:uuid:{resource.id}":
            found.append(f"{entry.fullUrl} holds {resource.resource_type}/{resource.id}")
        types[entry.fullUrl] = resource.resource_type
    return found + problems_in(bundle, types, "Bundle")


def resources_from_ndjson(lines: Iterable[str]) -> List[Resource]:
    """Each line parsed back by fhir.resources, by its own resourceType."""
    resources = []
    for line in lines:
        assert line.endswith("\n") and "\n" not in line[:-1], "one resource per line"
        resources.append(construct_fhir_element(json.loads(line)["resourceType"], line))
    return resources


def ndjson_problems(resources: List[Resource]) -> List[str]:
    types = {f"{r.resource_type}/{r.id}": r.resource_type for r in resources}
    return [p for r in resources for p in problems_in(r, types, f"{r.resource_type}/{r.id}")]


def roundtrip(resource: Resource) -> Optional[str]:
    """None when fhir.resources parses the resource's JSON back into the same resource."""
    again = type(resource).parse_raw(resource.json())
    return None if again.json() == resource.json() else f"{resource.resource_type}/{resource.id} changed"
