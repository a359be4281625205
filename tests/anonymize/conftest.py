"""Anonymizer fixtures: the spaCy pipelines (en_core_web_sm for the check layer, the learned detector for the primary
one) are loaded once per test session (they cost seconds), with every outbound connection attempt recorded and
refused while they load, so the no-network tests can check the load itself."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest

from anonymize.engine import Anonymizer


@contextmanager
def refuse_network(attempts: list[object]) -> Iterator[None]:
    """Patch socket connect (and DNS) to record the attempt and raise, as an air-gapped host would."""
    original_connect, original_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network access attempted during a test")

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        attempts.append(host)
        raise OSError("DNS lookup attempted during a test")

    socket.socket.connect, socket.getaddrinfo = connect, getaddrinfo  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        socket.socket.connect, socket.getaddrinfo = original_connect, original_getaddrinfo  # type: ignore


@pytest.fixture(scope="session")
def no_network() -> Callable[[list[object]], AbstractContextManager[None]]:
    """`refuse_network` for tests (a fixture, so test modules need not import this conftest)."""
    return refuse_network


@pytest.fixture(scope="session")
def network_attempts_during_load() -> list[object]:
    return []


@pytest.fixture(scope="session")
def ner_anonymizer(network_attempts_during_load: list[object]) -> Anonymizer:
    """The check layer (spaCy en_core_web_sm NER plus the name and place rules); loaded once, network refused."""
    with refuse_network(network_attempts_during_load):
        anonymizer = Anonymizer(ner_backend="spacy", allow_list=("Ella Rose", "Charlotte Tilbury"))
        anonymizer.analyze("warm-up: Dave lives in Leeds, dave@example.com, https://example.com")
    return anonymizer


@pytest.fixture(scope="session")
def learned_anonymizer(network_attempts_during_load: list[object]) -> Anonymizer:
    """The primary layer (the learned detector plus the structured rules); loaded once, network refused."""
    with refuse_network(network_attempts_during_load):
        anonymizer = Anonymizer(allow_list=("Ella Rose", "Charlotte Tilbury"))
        anonymizer.analyze("warm-up: Dave lives in Leeds, dave@example.com, https://example.com")
    return anonymizer


@pytest.fixture(scope="module")
def rules() -> Anonymizer:
    """The check layer's rule-based recognizers only (no NER, with the name and place rules): fast, deterministic."""
    return Anonymizer(use_ner=False, ner_backend="spacy")
