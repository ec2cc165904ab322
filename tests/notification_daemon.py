#!/usr/bin/python3
"""A freedesktop notification server for the E2E test, on the test's own
session bus. Each Notify call is appended to LOG as a JSON line with the id
it was given; a file named click-<id> appearing in DIR "taps" that notice
(ActionInvoked with its default action, then NotificationClosed).

usage: notification_daemon.py LOG DIR
"""
import json
import os
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "org.freedesktop.Notifications"


class Server(dbus.service.Object):
    def __init__(self, bus, log, taps):
        super().__init__(bus, "/org/freedesktop/Notifications")
        self.log, self.taps, self.last = log, taps, 0

    @dbus.service.method(IFACE, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout):
        self.last += 1
        with open(self.log, "a") as f:
            f.write(json.dumps({"id": self.last, "app": str(app), "summary": str(summary),
                                "body": str(body), "actions": [str(a) for a in actions]}) + "\n")
        return self.last

    @dbus.service.method(IFACE, out_signature="as")
    def GetCapabilities(self):
        return ["body", "actions"]

    @dbus.service.method(IFACE, out_signature="ssss")
    def GetServerInformation(self):
        return ("legitka-e2e", "legitka", "1", "1.2")

    @dbus.service.method(IFACE, in_signature="u")
    def CloseNotification(self, nid):
        self.NotificationClosed(nid, 3)

    @dbus.service.signal(IFACE, signature="uu")
    def NotificationClosed(self, nid, reason):
        pass

    @dbus.service.signal(IFACE, signature="us")
    def ActionInvoked(self, nid, key):
        pass

    def poll(self):
        for name in os.listdir(self.taps):
            if name.startswith("click-"):
                os.remove(os.path.join(self.taps, name))
                nid = int(name[len("click-"):])
                self.ActionInvoked(nid, "default")
                self.NotificationClosed(nid, 2)
        return True


def main():
    log, taps = sys.argv[1], sys.argv[2]
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    server = Server(bus, log, taps)
    _name = dbus.service.BusName(IFACE, bus, do_not_queue=True)
    GLib.timeout_add(50, server.poll)
    open(os.path.join(taps, "ready"), "w").close()
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
