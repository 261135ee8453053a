import GolemExamples
import YagnaHTTP

HTTPTransport.runConcurrencyOnEventLoops()

// many-tasks: `--tasks N` tasks over several providers; failed tasks run again elsewhere, and
// with `--task-timeout S` so do tries that take longer than S seconds.
await Examples.main("many-tasks", options: ["tasks": "10", "task-timeout": ""])
