#!/usr/bin/env python3
"""Writes a Microsoft Graph-shaped list-items response (GET /sites/{id}/lists/{id}/items?expand=fields)
of about SIZE_MB megabytes, deterministic for a given seed.

usage: bench/gen-graph-items.py OUT_FILE [SIZE_MB=100] [SEED=42]
"""
import json
import random
import sys

out_path = sys.argv[1]
target = int(float(sys.argv[2]) * 1_000_000) if len(sys.argv) > 2 else 100_000_000
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 42)

countries = ["DE", "US", "FR", "GB", "NL", "CH", "AT", "SE", "JP", "BR", "ES", "IT"]
cities = ["Berlin", "Munich", "Zürich", "Paris", "London", "New York", "São Paulo", "Tokyo", "Malmö", "Wien"]
words = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Tyrell",
         "Cyberdyne", "Wonka", "Gringotts", "Oscorp", "Aperture", "Black Mesa", "Nakatomi", "Monarch"]
site = "contoso.sharepoint.com,2c3a6f55-7d3b-4e3e-9f1a-0c4b5d6e7f80,91a2b3c4-d5e6-47f8-9a0b-1c2d3e4f5a6b"


def person(i):
    return {"user": {"email": f"user{i}@contoso.com", "id": f"{i:08d}-aaaa-bbbb-cccc-dddddddddddd",
                     "displayName": f"User {i}"}}


with open(out_path, "w", encoding="utf-8") as out:
    out.write('{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#sites(\'%s\')/lists(\'b1\')/items",'
              '"value":[' % site)
    written = 0
    item = 0
    while written < target:
        item += 1
        title = f"{rng.choice(words)} {rng.choice(words)} {item}"
        fields = {
            "@odata.etag": f"\"{item:08x}-1111-2222-3333-444444444444,{rng.randint(1, 9)}\"",
            "Title": title,
            "Country": rng.choice(countries),
            "AccountManager": f"Manager {rng.randint(1, 200)}",
            "Revenue": round(rng.uniform(1000, 5_000_000), 2),
            "Active": rng.random() < 0.8,
            "Tags": [rng.choice(words) for _ in range(rng.randint(0, 3))],
            "id": str(item),
            "ContentType": "Item",
            "Modified": "2026-10-%02dT%02d:%02d:00Z" % (rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59)),
            "Created": "2025-01-%02dT08:00:00Z" % rng.randint(1, 28),
            "AuthorLookupId": str(rng.randint(1, 50)),
            "EditorLookupId": str(rng.randint(1, 50)),
            "_UIVersionString": "1.0",
            "Attachments": False,
            "Edit": "",
            "LinkTitleNoMenu": title,
            "LinkTitle": title,
            "ItemChildCount": "0",
            "FolderChildCount": "0",
            "_ComplianceFlags": "",
            "_ComplianceTag": "",
            "AppAuthorLookupId": "",
        }
        if rng.random() < 0.9:  # some items have no City, as real lists do
            fields["City"] = rng.choice(cities)
        record = {
            "@odata.etag": fields["@odata.etag"],
            "createdDateTime": fields["Created"],
            "eTag": fields["@odata.etag"],
            "id": str(item),
            "lastModifiedDateTime": fields["Modified"],
            "webUrl": f"https://contoso.sharepoint.com/sites/sales/Lists/Customers/{item}_.000",
            "createdBy": person(rng.randint(1, 50)),
            "lastModifiedBy": person(rng.randint(1, 50)),
            "parentReference": {"id": "5a6b7c8d-0000-1111-2222-333344445555", "siteId": site},
            "contentType": {"id": "0x0100A1B2C3D4E5F6", "name": "Item"},
            "fields@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#sites('{site}')/lists('b1')/items('{item}')/fields/$entity",
            "fields": fields,
        }
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        if item > 1:
            out.write(",")
            written += 1
        out.write(text)
        written += len(text.encode("utf-8"))
    out.write("]}")
print(f"{out_path}: {item} items, {written / 1e6:.1f} MB", file=sys.stderr)
