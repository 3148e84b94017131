"""What the tests share: running a handler against the simulator, fake clients, template readers.

Test modules import from here (and from simulator.sharers / simulator.harness), never from one another,
a conftest, or a tool."""
