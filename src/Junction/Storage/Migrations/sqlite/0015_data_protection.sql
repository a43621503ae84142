-- ASP.NET Core data-protection keys (they sign and encrypt the dashboard's session and antiforgery
-- cookies), kept in the store so every node of a cluster, and a node after a restart, accepts the
-- cookies another issued. One row per key, as the key manager writes it (XML); never updated.
CREATE TABLE data_protection_keys (
    name       TEXT PRIMARY KEY,
    xml        TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
