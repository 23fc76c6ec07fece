from tracker.handoff import main

main()
