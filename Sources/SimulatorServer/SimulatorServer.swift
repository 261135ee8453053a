// SimulatorServer
