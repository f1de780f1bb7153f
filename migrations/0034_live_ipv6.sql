-- The IPv6 address of a deployment with `frontend.ipv6`, next to its IPv4 one, for the DNS
-- section's AAAA records.
ALTER TABLE deployment_live ADD COLUMN ipv6 TEXT;
