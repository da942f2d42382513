"""The flows ``toekgw run`` schedules, built from the configuration.

Each job is the body of an operator's command, under the same single-flight lock:

============================  ==================  ===============  ==============================
job                           needs               default every    then at once
============================  ==================  ===============  ==============================
``receive-g68``               ``[receive.g68]``   1 minute         release and send, and the
                                                                   tax-card orders, when a
                                                                   delivery came in (straks)
``nemkonto-release``          ``[nemkonto]``      1 hour           send, when it bundled any
``nemkonto-send``             ``[nemkonto]``      5 minutes
``nemkonto-answers``          ``[nemkonto]``      5 minutes
``eindkomst-receive``         ``[eindkomst]``     15 minutes       (receipts and tax cards)
``eindkomst-send``            ``[eindkomst]``     1 day            (puts deliveries journaled
                                                                   but not yet on the queue)
``eindkomst-close-month``     ``[eindkomst]``     1 day            (nil reports for last month)
``eindkomst-report``          ``[eindkomst]`` and 1 day (the       (the benefits at the bank not
                              ``[nemkonto]``      report window)   yet reported)
``eindkomst-orders``          ``[eindkomst]`` and 15 minutes       (tax-card orders for new
                              ``[nemkonto]``                       recipients; closed cases'
                                                                   subscriptions stopped)
``journal-figures``           (always)            1 minute         (the figures for /metrics)
``sortiment-receive``         ``[oir]`` and       1 hour           (SF7002 deliveries to the
                              ``[receive.sortiment]``              replica)
``oir-send``                  ``[oir]``           ``send_interval`` (builds the vouchers, then
                                                                   sends them in batches)
``oir-receive``               ``[oir]`` and       5 minutes        (the ERP's voucher status)
                              ``[receive.erp]``
``tok-intake``                ``[tok]``           10 seconds       release and send, and the
                                                                   tax-card orders, when a
                                                                   message came in (straks)
``debitor-send``              ``[debitor.afsend]`` 1 minute        (claims and set-offs to the
                                                                   debtor system, SF1590_B)
``retention``                 ``[retention]``     1 day            (pseudonyms and staging
                                                                   copies past their period)
``ydelsesindeks-report``      ``[ydelsesindeks]``  15 minutes      (each effectuated payment to
                                                                   SF1490's benefit index, once)
============================  ==================  ===============  ==============================

Release bundles only what is due, so triggering it when any delivery arrives sends a straks
payment at once and leaves the rest for its date. ``[run.jobs.<name>]`` changes a job's
interval and timeout or disables it; a name that is no job here is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass

from toekgw.adapters.debitor.flow import FLOW as DEBITOR_FLOW
from toekgw.adapters.debitor.flow import open_client, send_claims
from toekgw.adapters.debitor.settings import DEBITOR_SECTION
from toekgw.adapters.eindkomst import EindkomstGateway, open_eindkomst
from toekgw.adapters.eindkomst.collect import order_tax_cards, report_paid
from toekgw.adapters.eindkomst.settings import EINDKOMST_SECTION
from toekgw.adapters.figures import journal_figures
from toekgw.adapters.g68 import G68Processor
from toekgw.adapters.g68.payments import FOLLOW_UP_KIND
from toekgw.adapters.nemkonto import (
    NEMKONTO_SECTION,
    FlowSettings,
    flow_settings,
    receive_answers,
    release,
    send_bundles,
)
from toekgw.adapters.oir import OIR_SECTION, oir_settings
from toekgw.adapters.oir import flows as oir_flows
from toekgw.adapters.payments import PaymentControls, payments_settings
from toekgw.adapters.serviceplatform import (
    RECEIVE,
    open_transport,
    receive_pipeline,
    receive_profile,
    serviceplatform_settings,
)
from toekgw.adapters.tok.flow import FLOW as TOK_FLOW
from toekgw.adapters.tok.flow import PER_MACHINE as TOK_PER_MACHINE
from toekgw.adapters.tok.flow import registration_places, take_and_tell
from toekgw.adapters.tok.kinds import TOK_PAYMENTS
from toekgw.adapters.tok.settings import TOK_SECTION
from toekgw.adapters.ydelsesindeks.flow import Reporting
from toekgw.adapters.ydelsesindeks.settings import YDELSESINDEKS_SECTION
from toekgw.gateway.config import ConfigError, Settings
from toekgw.gateway.danish_time import danish_date
from toekgw.gateway.flowlock import flow_lock, lock_path
from toekgw.gateway.journal import SqliteJournal, open_journal
from toekgw.gateway.metrics import Figures
from toekgw.gateway.retention import retention_flow
from toekgw.gateway.retention_config import RETENTION_SECTION
from toekgw.gateway.scheduler import Job, JobReport
from toekgw.gateway.service_config import RUN_SECTION, RunSettings
from toekgw.gateway.transport.config import open_queue

__all__ = ["build_jobs", "run_settings"]

MINUTE, HOUR, DAY = 60.0, 3600.0, 86_400.0


@dataclass(frozen=True)
class _Spec:
    name: str
    action: Callable[[dt.datetime], JobReport]
    interval: float
    timeout: float
    then: tuple[str, ...] = ()


def run_settings(settings: Settings) -> RunSettings:
    return settings.section(RUN_SECTION) or RunSettings()


@contextmanager
def _flow(settings: Settings, flow: str, *, per_machine: bool = False) -> Iterator[SqliteJournal]:
    """The flow's lock (the command's own; ``per_machine``: this machine's only) and a
    verified journal."""
    shared = None if per_machine else settings.journal
    with (
        flow_lock(lock_path(settings.staging, flow), flow.replace("-", " "), journal=shared),
        closing(open_journal(settings.journal, verify=True)) as journal,
    ):
        yield journal


@contextmanager
def _eindkomst_sending(
    settings: Settings, clock: Callable[[], dt.datetime] | None = None
) -> Iterator[EindkomstGateway]:
    """The eIndkomst gateway under the ``eindkomst send`` flow's lock (shared by its jobs)."""
    with (
        flow_lock(
            lock_path(settings.staging, "eindkomst-send"),
            "eindkomst send",
            journal=settings.journal,
        ),
        open_eindkomst(settings, clock=clock) as gw,
    ):
        yield gw


def _receive_g68(settings: Settings) -> Callable[[dt.datetime], JobReport]:
    profile = receive_profile(settings, "g68")
    sp = serviceplatform_settings(settings)

    def action(now: dt.datetime) -> JobReport:
        journal = open_journal(settings.journal, verify=True)
        with closing(journal), open_transport(sp) as transport:
            outcomes = receive_pipeline(
                journal,
                transport,
                G68Processor(profile, today=danish_date(now)),
                party=sp.party,
                senders=profile.senders,
                staging=settings.staging,
                in_dir=sp.in_dir,
                after_receive=sp.after_receive,
                archive_dir=sp.archive_dir,
            ).poll_once()
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        arrived = counts.get("received", 0) + counts.get("resumed", 0)
        text = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        errors = sum(o.errors for o in outcomes)
        if errors:
            counts["errors"] = errors
            text = f"{text}; {errors} error{'' if errors == 1 else 's'} on the error list"
        return JobReport(text or "nothing waiting", counts, trigger=arrived > 0)

    return action


def _nemkonto(settings: Settings) -> list[_Spec]:
    flow: FlowSettings = flow_settings(settings)
    mq = settings.require(NEMKONTO_SECTION).mq

    def do_release(now: dt.datetime) -> JobReport:
        with _flow(settings, "nemkonto-release") as journal:
            controls = PaymentControls(payments_settings(settings), now)
            result = release(journal, flow, danish_date(now), now=now, controls=controls)
        held = "".join(f", {n} {state}" for state, n in sorted(result.held.items()))
        return JobReport(
            f"released {result.released} payments in {len(result.bundles)} bundles; "
            f"{result.waiting} waiting{held}",
            {"released": result.released, "bundles": len(result.bundles), **result.held},
            trigger=bool(result.bundles),
        )

    def do_send(now: dt.datetime) -> JobReport:
        with _flow(settings, "nemkonto-send") as journal, closing(open_queue(mq)) as queue:
            sent = send_bundles(journal, queue, flow)
        return JobReport(f"sent {len(sent)} bundles", {"bundles": len(sent)})

    def do_answers(now: dt.datetime) -> JobReport:
        with _flow(settings, "receive-nemkonto") as journal, closing(open_queue(mq)) as queue:
            summary = receive_answers(journal, queue, flow)
        return JobReport(
            f"{summary.messages} answers, {summary.applied} applied",
            {"answers": summary.messages, "failed": summary.failed},
        )

    return [
        _Spec("nemkonto-release", do_release, HOUR, 10 * MINUTE, then=("nemkonto-send",)),
        _Spec("nemkonto-send", do_send, 5 * MINUTE, 10 * MINUTE),
        _Spec("nemkonto-answers", do_answers, 5 * MINUTE, 10 * MINUTE),
    ]


def _eindkomst(settings: Settings) -> list[_Spec]:
    def do_receive(now: dt.datetime) -> JobReport:
        with (
            flow_lock(
                lock_path(settings.staging, "eindkomst-receive"),
                "eindkomst receive",
                journal=settings.journal,
            ),
            open_eindkomst(settings) as gw,
        ):
            r = gw.receive()
        return JobReport(
            f"{r.messages} messages: {r.sum_receipts} receipts, {r.tax_cards} tax cards",
            {"messages": r.messages, "failed": r.failed},
        )

    def do_send(now: dt.datetime) -> JobReport:
        with _eindkomst_sending(settings) as gw:
            put = gw.send_pending()
        return JobReport(f"{put} pending deliveries put", {"put": put})

    def do_close(now: dt.datetime) -> JobReport:
        today = danish_date(now)
        last_month = today.replace(day=1) - dt.timedelta(days=1)
        with _eindkomst_sending(settings) as gw:
            result = gw.close_month(last_month.replace(day=1), today=today)
        return JobReport(
            f"{last_month:%Y-%m}: {len(result.report_ids)} nil reports",
            {"nil_reports": len(result.report_ids)},
        )

    specs = [
        _Spec("eindkomst-receive", do_receive, 15 * MINUTE, 10 * MINUTE),
        _Spec("eindkomst-send", do_send, DAY, 30 * MINUTE),
        _Spec("eindkomst-close-month", do_close, DAY, 30 * MINUTE),
    ]
    if settings.section(NEMKONTO_SECTION) is None:
        return specs  # no payments reach the bank: nothing to report or order for
    flow = flow_settings(settings)
    kinds = (flow.payment_kind, FOLLOW_UP_KIND, TOK_PAYMENTS)
    order_type = settings.require(EINDKOMST_SECTION).order_type

    def do_report(now: dt.datetime) -> JobReport:
        with _eindkomst_sending(settings, lambda: now) as gw:
            run = report_paid(gw, kinds, before=danish_date(now) + dt.timedelta(days=1))
        return JobReport(
            f"{run.payments} payments reported in {run.reports} reports",
            {"payments": run.payments, "reports": run.reports},
        )

    def do_orders(now: dt.datetime) -> JobReport:
        with _eindkomst_sending(settings, lambda: now) as gw:
            run = order_tax_cards(gw, kinds, order_type=order_type, today=danish_date(now))
        cases = run.cases
        return JobReport(
            f"{run.ordered} tax cards ordered; cases: {cases.stopped} stopped, "
            f"{cases.nothing_to_stop} with nothing to stop, {cases.rejected} rejected",
            {"ordered": run.ordered, "stopped": cases.stopped, "rejected": cases.rejected},
        )

    return [
        *specs,
        _Spec("eindkomst-report", do_report, DAY, 30 * MINUTE),
        _Spec("eindkomst-orders", do_orders, 15 * MINUTE, 10 * MINUTE),
    ]


def _oir(settings: Settings) -> list[_Spec]:
    serviceplatform_settings(settings)  # the vouchers and their answers go over it: say so now

    def do_sortiment(now: dt.datetime) -> JobReport:
        received = oir_flows.receive(settings, "sortiment")
        return JobReport(
            "; ".join(received.intake.messages) or "no sortiment delivery",
            {"files": received.intake.files},
        )

    def do_send(now: dt.datetime) -> JobReport:
        built = oir_flows.build(settings)
        sent = oir_flows.send(settings)
        return JobReport(
            f"{built.built} vouchers built, {built.held} held; {len(sent)} batches sent",
            {"built": built.built, "held": built.held, "batches": len(sent)},
        )

    def do_receive(now: dt.datetime) -> JobReport:
        intake = oir_flows.receive(settings, "erp").intake
        return JobReport(
            f"{intake.files} answers: {intake.accepted} accepted, {intake.rejected} rejected",
            {"answers": intake.files, "rejected": intake.rejected},
        )

    profiles = settings.section(RECEIVE) or {}
    specs = []
    if "sortiment" in profiles:
        specs.append(_Spec("sortiment-receive", do_sortiment, HOUR, 10 * MINUTE))
    interval = oir_settings(settings).send_interval
    specs.append(_Spec("oir-send", do_send, interval, 30 * MINUTE))
    if "erp" in profiles:
        specs.append(_Spec("oir-receive", do_receive, 5 * MINUTE, 10 * MINUTE))
    return specs


def _tok(settings: Settings) -> Callable[[dt.datetime], JobReport]:
    tok = settings.require(TOK_SECTION)
    places = registration_places(flow_settings(settings))

    def action(now: dt.datetime) -> JobReport:
        with _flow(settings, TOK_FLOW, per_machine=TOK_PER_MACHINE) as journal:
            run = take_and_tell(journal, tok, places, lambda: now)
        taken = run.intake
        return JobReport(
            f"{taken.messages} messages ({taken.taken} taken, {taken.refused} refused), "
            f"{run.statuses.published} statuses",
            {"taken": taken.taken, "refused": taken.refused, "failed": taken.failed,
             "statuses": run.statuses.published},
            trigger=taken.taken > 0,
        )  # fmt: skip

    return action


def _debitor(settings: Settings) -> Callable[[dt.datetime], JobReport]:
    client = open_client(settings)  # one per service: its tokens are cached across runs

    def action(now: dt.datetime) -> JobReport:
        with _flow(settings, DEBITOR_FLOW) as journal:
            result = send_claims(journal, settings, lambda: now, client=client)
        return JobReport(
            f"{result.sent} calls taken, {result.rejected} refused by the debtor system, "
            f"{result.refused} claims refused here",
            {"sent": result.sent, "rejected": result.rejected, "refused": result.refused},
        )

    return action


def _ydelsesindeks(
    settings: Settings, figures: Figures | None
) -> Callable[[dt.datetime], JobReport]:
    reporting = Reporting.from_settings(settings)  # one token cache for every run
    if figures is not None:
        figures.add_live(reporting.tokens.figures)

    def action(now: dt.datetime) -> JobReport:
        run = reporting.run()
        return JobReport(
            run.text(),
            {"reported": run.reported, "refused": run.refused, "left": run.unreachable},
        )

    return action


def _specs(settings: Settings, figures: Figures | None = None) -> list[_Spec]:
    specs: list[_Spec] = []
    release_and_send = ("nemkonto-release", "nemkonto-send")
    has_nemkonto = settings.section(NEMKONTO_SECTION) is not None
    if "g68" in (settings.section(RECEIVE) or {}):
        then = (*release_and_send, "eindkomst-orders") if has_nemkonto else ()
        specs.append(_Spec("receive-g68", _receive_g68(settings), MINUTE, 30 * MINUTE, then))
    if has_nemkonto:
        specs.extend(_nemkonto(settings))
    eindkomst = settings.section(EINDKOMST_SECTION)
    if eindkomst is not None:
        if eindkomst.route == "serviceplatform":
            serviceplatform_settings(settings)  # SF0770_B goes over it: say so at the start
        specs.extend(_eindkomst(settings))
    if settings.section(OIR_SECTION) is not None:
        specs.extend(_oir(settings))
    if settings.section(TOK_SECTION) is not None:
        then = (*release_and_send, "eindkomst-orders") if has_nemkonto else ()
        specs.append(_Spec("tok-intake", _tok(settings), 10.0, 10 * MINUTE, then))
    debitor = settings.section(DEBITOR_SECTION)
    if debitor is not None and debitor.afsend is not None:
        specs.append(_Spec("debitor-send", _debitor(settings), MINUTE, 30 * MINUTE, ()))
    if settings.section(RETENTION_SECTION) is not None:
        specs.append(_Spec("retention", _retention(settings), DAY, 2 * HOUR))
    if settings.section(YDELSESINDEKS_SECTION) is not None:
        report = _ydelsesindeks(settings, figures)
        specs.append(_Spec("ydelsesindeks-report", report, 15 * MINUTE, 30 * MINUTE))
    return specs


def _retention(settings: Settings) -> Callable[[dt.datetime], JobReport]:
    def action(now: dt.datetime) -> JobReport:
        report = retention_flow(settings, now)
        counts = {"items": report.items, "staging_copies": report.staging_copies,
                  "meta": report.meta, "reads": report.reads}  # fmt: skip
        return JobReport(report.summary(), counts)

    return action


def _figures_spec(settings: Settings, figures: Figures) -> _Spec:
    def action(now: dt.datetime) -> JobReport:
        values = journal_figures(settings, now)
        figures.replace(now, values)
        return JobReport(f"{len(values)} figures read")

    return _Spec("journal-figures", action, MINUTE, 5 * MINUTE)


def build_jobs(settings: Settings, figures: Figures | None = None) -> list[Job]:
    """Every job the configuration has the tables for, with ``[run.jobs.*]`` applied; with
    ``figures``, the ``journal-figures`` job that keeps them up to date."""
    run = run_settings(settings)
    specs = _specs(settings, figures)
    if figures is not None:
        specs.append(_figures_spec(settings, figures))
    names = {spec.name for spec in specs}
    unknown = sorted(set(run.jobs) - names)
    if unknown:
        raise ConfigError(
            f"{settings.path}: [run.jobs.{unknown[0]}]: no such job here "
            f"(the jobs of this configuration: {', '.join(sorted(names)) or 'none'})"
        )
    jobs = []
    enabled = {name for name in names if run.jobs.get(name) is None or run.jobs[name].enabled}
    for spec in specs:
        if spec.name not in enabled:
            continue
        own = run.jobs.get(spec.name)
        jobs.append(
            Job(
                spec.name,
                spec.action,
                (own and own.interval) or spec.interval,
                (own and own.timeout) or spec.timeout,
                tuple(name for name in spec.then if name in enabled),
            )
        )
    return jobs
