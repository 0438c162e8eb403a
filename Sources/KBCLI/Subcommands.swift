import ArgumentParser

extension KBCommand {
  /// Every subcommand, in the order `kb --help` lists them. One line per command, so that work
  /// on different commands merges cleanly.
  static let allSubcommands: [any ParsableCommand.Type] = [
    GitProxy<InitName>.self,
    New.self,
    Show.self,
    List.self,
    Search.self,
    Check.self,
    Index.self,
    WatchGroup.self,
    ServeMCP.self,
    ServeWeb.self,
    CaseGroup.self,
    CasesList.self,
    Stats.self,
    GitProxy<CloneName>.self,
    GitProxy<StatusName>.self,
    GitProxy<SyncName>.self,
    GitProxy<ConflictsName>.self,
    GitProxy<LogName>.self,
    GitProxy<MergeDriverName>.self,
    Suggest.self,
  ]
}
