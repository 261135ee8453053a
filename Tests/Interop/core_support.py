"""What the golem-core 0.7.8 drivers share: the payment manager with the allocation fallback, and
the entry point that reports a failure in one line before its traceback."""
import asyncio
import sys
from datetime import datetime, timedelta, timezone

from golem.managers import DefaultPaymentManager
from golem.resources import Allocation, NoMatchingAccount
from ya_payment import models


class PaymentManager(DefaultPaymentManager):
    """DefaultPaymentManager, with the allocation fallback core_hello.py explains: its allocation
    needs the sender account listed (as after `yagna payment fund`), and a fresh yagna 0.17.6, like
    golem-sim, lists it only once an allocation was made on its platform. So the first allocation
    names just the platform, as yapapi's does. stop() still releases it."""

    async def _create_allocation(self) -> Allocation:
        try:
            return await super()._create_allocation()
        except NoMatchingAccount:
            now = datetime.now(timezone.utc)
            return await Allocation.create(self._golem, models.Allocation(
                allocation_id="", payment_platform=f"{self._driver}-{self._network}-tglm",
                total_amount=str(self._budget), spent_amount="", remaining_amount="",
                timestamp=now, timeout=now + timedelta(hours=1), make_deposit=False))


def run(main):
    """Runs the driver's coroutine function; a failure is named in one line, then raised."""
    try:
        asyncio.run(main())
    except Exception as e:
        print(f"failed: {type(e).__name__}: {e}", file=sys.stderr)
        raise
