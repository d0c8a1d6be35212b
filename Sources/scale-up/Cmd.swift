import ArgumentParser
@main struct Cmd: ParsableCommand { func run() {} }
