import KBCLI

@main
extension KBCommand {}
