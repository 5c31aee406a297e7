//! The agent's metrics sampler (sysinfo): CPU, memory, disk, load, uptime, network.
