import Foundation

// The gftp stand-in is not built yet (see the simulator issue): yapapi apps that start `gftp server`
// cannot run against golem-sim serve until it is.
FileHandle.standardError.write(Data("gftp: the simulator's gftp stand-in is not built yet\n".utf8))
exit(2)
