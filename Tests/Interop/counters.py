"""Custom usage counters on unmodified yapapi (after yapapi's custom-usage-counter example):
the strategy caps the custom counter's price, so only the fairly priced provider is chosen; the
service resets the counter with a command and reads usage and cost between batches. Each cost
must be the offer's coefficients applied to the usage yapapi reads, and the counter must move
as the scenario says (reset to 100, then growing)."""
import asyncio
import os
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from yapapi import Golem
from yapapi.payload import vm
from yapapi.props import com
from yapapi.services import Service
from yapapi.strategy import LeastExpensiveLinearPayuMS

IMAGE = "d646d7b93083d817846c2ae5c62c72ca0507782385a2e29291a3d376"
COUNTER = "golem.usage.custom.counter"
readings = []


class CounterService(Service):
    @staticmethod
    async def get_payload():
        return await vm.repo(image_hash=IMAGE)

    async def run(self):
        script = self._ctx.new_script()
        script.run("/bin/sh", "-c", "reset-counter")
        yield script
        for _ in range(3):
            script = self._ctx.new_script()
            script.run("/bin/sh", "-c", "sleep 1")
            yield script
            usage = await self._ctx.get_usage()
            cost = await self._ctx.get_cost()
            readings.append((self.provider_name, dict(usage.current_usage), cost))
            await asyncio.sleep(1)


async def main():
    strategy = LeastExpensiveLinearPayuMS(
        max_fixed_price=Decimal("1.0"),
        max_price_for={com.Counter.CPU: Decimal("0.2"), com.Counter.TIME: Decimal("0.1"), COUNTER: Decimal("0.1")},
    )
    async with Golem(budget=1.0, subnet_tag="public", strategy=strategy) as golem:
        cluster = await golem.run_service(CounterService, num_instances=1, expiration=datetime.now(timezone.utc) + timedelta(minutes=15))
        for _ in range(120):
            await asyncio.sleep(0.5)
            if len(readings) >= 3:
                break
        cluster.stop()
        await asyncio.sleep(1)
    problems = []
    if len(readings) < 3:
        problems.append(f"only {len(readings)} usage readings")
    coeffs = {"golem.usage.duration_sec": 0.0001, "golem.usage.cpu_sec": 0.0001, COUNTER: 0.0003}
    previous = None
    for provider, usage, cost in readings:
        if provider != "fair-counter":
            problems.append(f"ran on {provider}, whose counter price is over the cap")
        if set(usage) != set(coeffs):
            problems.append(f"usage counters {sorted(usage)}")
            continue
        # get_cost reads usage again a moment later: its cost may only have grown by what that
        # moment adds (well under a second of the counter's 0.5/s growth at 0.0003).
        expected = sum(coeffs[k] * v for k, v in usage.items())
        if cost is None or not (expected - 1e-12 <= cost <= expected + 0.0003):
            problems.append(f"cost {cost} for usage {usage}, expected {expected} (the custom counter priced in)")
        if usage[COUNTER] < 100 or (previous is not None and usage[COUNTER] < previous):
            problems.append(f"custom counter {usage[COUNTER]} after {previous}")
        previous = usage[COUNTER]
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"{len(readings)} usage readings on fair-counter, custom counter {readings[0][1][COUNTER]:.1f} -> {previous:.1f}, cost {readings[-1][2]:.6f}")


if __name__ == "__main__":
    asyncio.run(main())
