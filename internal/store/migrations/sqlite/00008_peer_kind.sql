-- +goose Up
-- A peer hub speaks edocgw's API or the national axis's SDK protocol
-- (routing.PeerKind). For a vxp peer, system_id is the systemId this hub
-- uses there and token holds that system's secret, sealed by the VXP key.
ALTER TABLE peers ADD COLUMN kind TEXT NOT NULL DEFAULT 'edocgw' CHECK (kind IN ('edocgw', 'vxp'));
ALTER TABLE peers ADD COLUMN system_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE peers DROP COLUMN system_id;
ALTER TABLE peers DROP COLUMN kind;
