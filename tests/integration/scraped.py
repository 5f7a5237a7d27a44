"""What a scrape of ``/metrics`` says, parsed by prometheus-client's own parser."""

from __future__ import annotations

import re
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

# An id in a label value would make a series per object.
ID_LIKE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-|\d{3,}")


@dataclass(frozen=True)
class Scrape:
    samples: list[Sample]

    @classmethod
    def of(cls, text: str) -> Scrape:
        return cls([s for family in text_string_to_metric_families(text) for s in family.samples])

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called ``name`` whose labels include ``labels`` (0 if none)."""
        return sum(
            sample.value
            for sample in self.samples
            if sample.name == name and labels.items() <= sample.labels.items()
        )

    def has(self, name: str, **labels: str) -> bool:
        return any(
            sample.name == name and labels.items() <= sample.labels.items()
            for sample in self.samples
        )

    def label_values(self, name: str, label: str) -> set[str]:
        return {
            sample.labels[label]
            for sample in self.samples
            if sample.name == name and label in sample.labels
        }

    def id_like_labels(self) -> list[str]:
        """Every workledger label value that looks like an id (a bucket's bound excepted)."""
        return [
            f"{sample.name}{{{label}={value!r}}}"
            for sample in self.samples
            if sample.name.startswith("workledger_")
            for label, value in sample.labels.items()
            if label != "le" and ID_LIKE.search(value)
        ]
