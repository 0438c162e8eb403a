import KBCLIGit

@main
extension KBGitCommand {}
