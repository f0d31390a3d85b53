"""The app's list of dead-letter queues (chalicelib/settings.py), the one inventory the
policies derive theirs from (deploy/policies.py), and the template's queues name the same
queues."""
from __future__ import annotations

from chalicelib.settings import dead_letter_queues
import pytest

from deploy.policies import dead_letter_queue_arns, redrive_return_arns
from deploy.stage import StageResources, load_template


def template_dead_letter_queues(resources: StageResources) -> set[str]:
    """Every queue some other queue's redrive policy sends to, plus the stream mappings'
    on-failure queue and the scheduled jobs' dead-letter queue."""
    queues = {logical: r for logical, r in resources.template["Resources"].items() if r["Type"] == "AWS::SQS::Queue"}
    targets = {"StreamFailuresQueue", "ScheduleDeadLetterQueue"}
    for resource in queues.values():
        target = resource["Properties"].get("RedrivePolicy", {}).get("deadLetterTargetArn", {})
        if isinstance(target, dict) and "Fn::GetAtt" in target:
            targets.add(target["Fn::GetAtt"][0])
    return {resources.name(logical) for logical in targets}


def test_the_app_lists_every_dead_letter_queue_of_the_template_and_no_other() -> None:
    resources = StageResources("prod", load_template())
    listed = {queue.queue for queue in dead_letter_queues("payment-webhooks-prod")}
    assert listed == template_dead_letter_queues(resources)
    assert listed == {arn.rsplit(":", 1)[1] for arn in dead_letter_queue_arns(resources)}


def test_the_policies_grant_each_listed_queue_and_each_source_a_redrive_returns_to() -> None:
    resources = StageResources("prod", load_template())
    queues = dead_letter_queues("payment-webhooks-prod")
    prefix = "arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:"
    assert dead_letter_queue_arns(resources) == [prefix + queue.queue for queue in queues]
    assert redrive_return_arns(resources) == [prefix + queue.source for queue in queues if queue.source]


def test_a_listed_queue_missing_from_the_template_is_refused() -> None:
    template = load_template()
    del template["Resources"]["ScheduleDeadLetterQueue"]
    with pytest.raises(KeyError, match="schedule-dlq"):
        dead_letter_queue_arns(StageResources("prod", template))


def test_dead_letter_queue_names_are_unique_and_url_safe() -> None:
    names = [queue.name for queue in dead_letter_queues("payment-webhooks-prod")]
    assert len(set(names)) == len(names)
    assert all(name.replace("-", "").isalnum() and name.islower() for name in names)


def test_a_consumer_queue_redrive_names_its_source_queue() -> None:
    for queue in dead_letter_queues("payment-webhooks-prod"):
        assert queue.redrive in ("stream", "schedule", "queue")
        assert (queue.source is not None) == (queue.redrive == "queue")
