"""PII detection, anonymization operators and keyed pseudonyms; imports nothing from `appliance`."""
