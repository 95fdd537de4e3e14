"""Reading a role's /metrics the way Prometheus does: prometheus_client's own text parser."""

from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    def __init__(self, text: str):
        self.families = {family.name: family for family in text_string_to_metric_families(text)}

    def family(self, name: str):
        """By the name operators query; the parser names a counter's family without its `_total`."""
        family = self.families.get(name) or self.families.get(name.removesuffix("_total"))
        assert family is not None, f"{name} is not exported; found {sorted(self.families)}"
        return family

    def label_names(self, name: str) -> set[str]:
        """The label names of a family's series (a histogram's `le` left out)."""
        return {label for sample in self.family(name).samples for label in sample.labels if label != "le"}

    def value(self, sample_name: str, **labels) -> float:
        """The sum over the series of `sample_name` whose labels include `labels` (0 when there is none)."""
        total = 0.0
        for family in self.families.values():
            for sample in family.samples:
                if sample.name == sample_name and labels.items() <= sample.labels.items():
                    total += sample.value
        return total
