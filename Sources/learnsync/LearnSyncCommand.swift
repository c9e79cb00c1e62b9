import ArgumentParser

@main
struct LearnSyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learnsync",
        abstract: "Drive and verify LearnSync: act as devices, run a server, watch progress merge.",
        discussion: """
            Each device command acts as one device whose data lives in a folder: --device DIR, or \
            LEARNSYNC_DEVICE when the option is absent (default: ~/.learnsync/device). One machine \
            can play many devices by giving each its own folder.

            Start with `learnsync demo`, then try:
              learnsync serve &
              learnsync record --help
              learnsync record lesson --course customer-privacy --lesson keep-secure --completed
              learnsync sync --server http://127.0.0.1:8080
              learnsync progress

            Shell completions: learnsync --generate-completion-script bash|zsh|fish

            """ + ExitCodes.help,
        subcommands: [
            DemoCommand.self, ServeCommand.self, CoursesCommand.self, RecordCommand.self, ProgressCommand.self,
            SyncCommand.self, SignUpCommand.self, LoginCommand.self, LogoutCommand.self, AccountCommand.self, ExportCommand.self, StatusCommand.self,
            SimulateCommand.self, ScenarioCommand.self,
        ])
}
