"""Every repository still offers what its port promises the services, with the same
parameters, so the interfaces wiring.py hands out never drift from the code behind them."""
from __future__ import annotations

import inspect

import pytest

from chalicelib.services import ports
from chalicelib.services.alerts import PaymentAlertService
from chalicelib.storage.alert_topic import PaymentAlertsTopic
from chalicelib.storage.alerts import AlertsRepository
from chalicelib.storage.analytics import AnalyticsRepository
from chalicelib.storage.archive.archivable import ArchivableTransactions
from chalicelib.storage.archive.bucket import ArchiveBucket
from chalicelib.storage.archive.lease import ArchiveLease
from chalicelib.storage.event_bus import ChangeFeedBus
from chalicelib.storage.events import EventRepository
from chalicelib.storage.ledger import PaymentLedger
from chalicelib.storage.risk import RiskRecords
from chalicelib.storage.secrets import SecretsRepository
from chalicelib.storage.transactions import TransactionRepository
from chalicelib.storage.dead_letters import DeadLetterQueues
from chalicelib.storage.functions import LambdaFunctions
from chalicelib.storage.stream_records import StreamRecords
from chalicelib.services.ingest import IngestService
from chalicelib.storage.reconciliation.exports import ReconciliationBucket
from chalicelib.storage.reconciliation.payments import ReconciledPayments
from chalicelib.storage.announcements import TransactionAnnouncements

IMPLEMENTATIONS = {
    ports.SigningSecrets: SecretsRepository,
    ports.Ledger: PaymentLedger,
    ports.TransactionReader: TransactionRepository,
    ports.EventReader: EventRepository,
    ports.DailyFiguresStore: AnalyticsRepository,
    ports.ArchivableRecords: ArchivableTransactions,
    ports.ArchiveStore: ArchiveBucket,
    ports.RunLease: ArchiveLease,
    ports.ChangeFeed: ChangeFeedBus,
    ports.AlertRaiser: PaymentAlertService,
    ports.AlertLog: AlertsRepository,
    ports.AlertPublisher: PaymentAlertsTopic,
    ports.DeadLetterStore: DeadLetterQueues,
    ports.StreamRecordReader: StreamRecords,
    ports.StageFunctions: LambdaFunctions,
    ports.ReceivedEvents: EventRepository,
    ports.ReconciledPayments: ReconciledPayments,
    ports.VerifiedIngest: IngestService,
    ports.ReconciliationExports: ReconciliationBucket,
    ports.RiskRecords: RiskRecords,
    ports.TransactionAnnouncer: TransactionAnnouncements,
}
INSTANCES = {  # for the ports' data attributes, which exist once a repository is built
    ArchivableTransactions: lambda: ArchivableTransactions(None, "transactions"),
    ArchiveBucket: lambda: ArchiveBucket(None, "archive"),
    ReconciledPayments: lambda: ReconciledPayments(None, "transactions"),
}


def methods(cls: type) -> dict[str, object]:
    return {name: member for name, member in vars(cls).items()
            if callable(member) and not name.startswith("_")}


def parameters(function: object) -> list[tuple[str, object]]:
    return [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]


def test_every_port_of_the_services_has_an_implementation_here() -> None:
    declared = {obj for obj in vars(ports).values()
                if inspect.isclass(obj) and getattr(obj, "_is_protocol", False)
                and obj.__module__ == ports.__name__}
    assert declared == set(IMPLEMENTATIONS)


@pytest.mark.parametrize("port", list(IMPLEMENTATIONS), ids=lambda port: port.__name__)
def test_the_repository_offers_every_method_of_its_port_with_the_same_parameters(port: type) -> None:
    implementation = IMPLEMENTATIONS[port]
    for name, method in methods(port).items():
        assert hasattr(implementation, name), f"{implementation.__name__} has no {name}"
        assert parameters(getattr(implementation, name)) == parameters(method), name


@pytest.mark.parametrize("port", [p for p in IMPLEMENTATIONS if vars(p).get("__annotations__")],
                         ids=lambda port: port.__name__)
def test_the_repository_has_every_attribute_its_port_names(port: type) -> None:
    built = INSTANCES[IMPLEMENTATIONS[port]]()
    for name in vars(port)["__annotations__"]:
        assert hasattr(built, name), f"{type(built).__name__} has no {name}"
