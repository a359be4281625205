"""The privacy boundary: the anonymizer built from the appliance config, the egress gateway (the only
outbound connection) and the signed, tamper-evident audit log.
"""
