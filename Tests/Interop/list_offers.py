"""yapapi's low-level API listing offers (after yapapi's low-level-api/list-offers example): a
demand with the constraint `(&)` and an expiration already past, offers collected for a few
seconds and printed. Every scenario provider must be listed once, with its name and pricing."""
import asyncio
import sys
from datetime import datetime, timezone

from yapapi import props as yp
from yapapi.config import ApiConfig
from yapapi.rest import Configuration, Market
from yapapi.props.builder import DemandBuilder

EXPECTED = {"fair-counter", "greedy-counter"}
seen = {}


async def list_offers(conf: Configuration):
    async with conf.market() as client:
        market_api = Market(client)
        dbuild = DemandBuilder()
        dbuild.add(yp.NodeInfo(name="some scanning node", subnet_tag="public"))
        dbuild.add(yp.Activity(expiration=datetime.now(timezone.utc)))
        async with market_api.subscribe(dbuild.properties, "(&)") as subscription:
            async for event in subscription.events():
                name = event.props.get("golem.node.id.name")
                print(f"Offer: {event.id}\nfrom {event.issuer} ({name})\nvector {event.props.get('golem.com.usage.vector')}\n")
                seen[name] = event.props


async def main():
    try:
        await asyncio.wait_for(list_offers(Configuration(api_config=ApiConfig())), timeout=4)
    except asyncio.TimeoutError:
        pass
    problems = []
    if set(seen) != EXPECTED:
        problems.append(f"offers from {sorted(seen)}, expected {sorted(EXPECTED)}")
    for name, p in seen.items():
        vector = p.get("golem.com.usage.vector") or []
        coeffs = p.get("golem.com.pricing.model.linear.coeffs") or []
        if "golem.usage.custom.counter" not in vector or len(coeffs) != len(vector) + 1:
            problems.append(f"{name}: vector {vector}, coefficients {coeffs}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"listed {len(seen)} offers with a (&) demand: {sorted(seen)}")


if __name__ == "__main__":
    asyncio.run(main())
