"""What SPC does when the traveler records measurements: look for signals on the characteristics of
that step that have an active baseline (a durable job after the advance's commit, so the advance is
not slowed by the chart computation), and stop a step a signal's reaction plan stopped."""

from __future__ import annotations

from traveler.core.eventbus import Delivered, subscribe
from traveler.core.registry import add_guard


@subscribe("mes.part.advanced", durable=True)
@subscribe("mes.part.completed", durable=True)
@subscribe("mes.part.quarantined", durable=True)
def detect_signals(event: Delivered) -> None:
    """One detection per characteristic and advance: the parts of a bulk advance publish one event
    each, at one time (the transaction's); the first of them detects, the others find it done."""
    from django.db import transaction

    from traveler.core.queue import once
    from traveler.spc.services.signals import definitions_to_watch, signals_detect

    step_id = event.payload.get("from_step_id")
    if not step_id:
        return
    for definition in definitions_to_watch(step_id):
        with transaction.atomic():
            if event.occurred_at is not None and not once(
                    f"spc.detect:{event.tenant_id}:{definition.pk}:{event.occurred_at.isoformat()}"):
                continue
            signals_detect(definition=definition)


def _step_guard(**context):
    from traveler.spc.services.signals import step_hold_refusal

    return step_hold_refusal(**context)


add_guard("mes.part.advance", _step_guard, kind="spc_step_hold", overridable=False)


@subscribe("qms.spc_signal.answered", durable=True)
def record_answer(event: Delivered) -> None:
    """The quality module opened records for a signal: list them on the signal."""
    from traveler.spc.services.signals import signal_link_add

    for link in event.payload.get("links") or []:
        signal_link_add(signal_id=event.payload["signal_id"], kind=link["kind"], record_id=link["id"],
                        label=link.get("label", ""), url=link.get("url", ""))
