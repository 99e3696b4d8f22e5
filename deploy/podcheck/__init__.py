"""`make pod-check`: run the rendered production pods here, the way the kubelet would.

No cluster and no container engine: the production overlay is rendered with
`kubectl kustomize`, its External Secrets are resolved from a local JSON file shaped like
the Secrets Manager secrets, and each pod runs as processes in a network namespace of its
own (its own IP and loopback), with its volumes mounted where the manifest says, its
hostname, environment, command, probes, preStop hooks and grace periods. The AWS services
are local stand-ins: PostgreSQL that accepts TLS only (RDS), Redis over TLS (ElastiCache),
an SMTP server with STARTTLS and AUTH (SES).

Modules: `manifests` (render, environment, volumes), `secrets` (Secrets Manager file and
External Secrets), `standins` (TLS, PostgreSQL, Redis, SMTP), `kubelet` (pods, probes,
termination), `browser` (HTTP through the "ALB"), `checks` (the proofs and the table).
"""
