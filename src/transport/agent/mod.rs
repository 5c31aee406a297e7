//! The agent transport: the console's WebSocket client to `fleetdeck agent`.
