"""Conformance table of the Group Policy model of tests/farm_timeline.py: apply_gpp (the Registry
preference items applied at a Group Policy processing, over Host's registry) and the background
refresh interval the timeline draws (REFRESH_MIN, REFRESH_SPREAD).

Each apply case starts a front end WEB1 with the registry values `before` (name -> data under the
ConnectTo key), applies the preference items `items` `times` times (each a processing) and returns
the values left. removePolicy ("Remove this item when it is no longer applied") is not modelled:
the timeline never takes a GPO out of scope (apply_gpp's docstring).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import farm_timeline as F  # noqa: E402

MODEL = "Group Policy model (tests/farm_timeline.py: apply_gpp, Host registry, refresh interval)"

KEY = r"SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo"
# The Registry extension's actions: Microsoft, "Working with Windows Settings Preference Items Using
# the GPMC" (Registry extension, Action), and the Windows Server 2008 help as quoted on
# programming4.us/desktop/22898.aspx: "Create: Create the object only if it does not already exist.
# Replace: Delete the object first, then create it. Update: Create the object if it does not exist;
# otherwise modify it. Delete: Delete the object."
GPMC = ("https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-server-2012-R2-and-2012/"
        "dn789188(v=ws.11) (Registry extension, Action); Windows Server 2008 help quoted at "
        "http://programming4.us/desktop/22898.aspx")
GPPREF = "https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gppref/"
ILT = ("https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-server-2008-R2-and-2008/"
       "cc733022(v=ws.11) (Preference Item-Level Targeting)")
REG = "https://learn.microsoft.com/en-us/windows/win32/sysinfo/structure-of-the-registry"


class World:
    now = 0

    def violation(self, inv, host, msg):
        raise AssertionError(msg)


def item(action, value="DBMSSOCN,sql2,1433", name="SPSQL", computers=("web1",), runonce=None, key=KEY):
    return {"action": action, "key": key, "name": name, "value": value, "computers": set(computers),
            "runonce": runonce}


def run(case):
    if case.get("refresh"):
        lo, hi = F.REFRESH_MIN - F.REFRESH_SPREAD, F.REFRESH_MIN + F.REFRESH_SPREAD
        return {"documented range drawn": lo <= 90 and hi >= 120, "drawn": [lo, hi]}
    host = F.Host("WEB1", "x64", World())
    for name, value in case.get("before", {}).items():
        host.write(KEY, name, value)
    for k in range(case.get("times", 1)):
        items = case["items"](k) if callable(case["items"]) else case["items"]
        F.apply_gpp(host, items)
    return dict(host.registry.get(KEY.lower(), {}))


CASES = [
    dict(id="create-missing", items=[item("C")], expect={"spsql": "DBMSSOCN,sql2,1433"},
         source=GPMC, quote="Create: Create the object only if it does not already exist."),
    dict(id="create-does-not-overwrite", before={"SPSQL": "DBMSSOCN,sql1,1433"}, items=[item("C")],
         expect={"spsql": "DBMSSOCN,sql1,1433"}, misreading={"spsql": "DBMSSOCN,sql2,1433"},
         source=GPMC, quote="Create the object only if it does not already exist (an existing value is left as it is)."),
    dict(id="update-existing-changes", before={"SPSQL": "DBMSSOCN,sql1,1433"}, items=[item("U")],
         expect={"spsql": "DBMSSOCN,sql2,1433"}, misreading={"spsql": "DBMSSOCN,sql1,1433"},
         source=GPMC, quote="Update: Create the object if it does not exist; otherwise modify it."),
    dict(id="update-missing-creates", items=[item("U")], expect={"spsql": "DBMSSOCN,sql2,1433"},
         misreading={}, source=GPMC,
         quote="Update: Create the object if it does not exist."),
    dict(id="replace-existing", before={"SPSQL": "DBMSSOCN,sql1,1433"}, items=[item("R")],
         expect={"spsql": "DBMSSOCN,sql2,1433"},
         source=GPMC, quote="Replace: Delete the object first, then create it."),
    dict(id="replace-missing-creates", items=[item("R")], expect={"spsql": "DBMSSOCN,sql2,1433"},
         source=GPMC, quote="Replace: Delete the object first (if there is one), then create it."),
    dict(id="delete-existing", before={"SPSQL": "DBMSSOCN,sql1,1433", "Other": "x"}, items=[item("D", value="")],
         expect={"other": "x"}, source=GPMC, quote="Delete: Delete the object."),
    dict(id="delete-missing-no-error", before={"Other": "x"}, items=[item("D", value="")],
         expect={"other": "x"},
         source=GPPREF + "(Registry Properties action D) and GPMC",
         quote="Delete of a setting that is not there leaves nothing to remove (no error is modelled or raised)."),
    dict(id="targeting-other-computer", items=[item("U", computers=("web2",))], expect={},
         misreading={"spsql": "DBMSSOCN,sql2,1433"},
         source=ILT, quote="Computer Name targeting: the preference item applies only to computers with the "
                           "NetBIOS name given."),
    dict(id="targeting-or", items=[item("U", computers=("web2", "web1"))], expect={"spsql": "DBMSSOCN,sql2,1433"},
         source=ILT, quote="Targeting items in one collection joined with OR: the item applies when any is true."),
    dict(id="runonce-applies-once", times=2,
         items=lambda k: [item("U", value=f"DBMSSOCN,sql{k + 1},1433", runonce="{1}")],
         expect={"spsql": "DBMSSOCN,sql1,1433"}, misreading={"spsql": "DBMSSOCN,sql2,1433"},
         source=GPPREF + " 2.2.1.22 (FilterRunOnce)",
         quote="FilterRunOnce: the item is applied once; the client records its id and does not apply an item "
               "with that id again."),
    dict(id="runonce-new-id-applies", times=2,
         items=lambda k: [item("U", value=f"DBMSSOCN,sql{k + 1},1433", runonce="{%d}" % k)],
         expect={"spsql": "DBMSSOCN,sql2,1433"},
         source=GPPREF + " 2.2.1.22 (FilterRunOnce)", quote="an item with an id not yet recorded is applied"),
    dict(id="key-case-insensitive", before={"SPSQL": "DBMSSOCN,sql1,1433"},
         items=[item("U", key=KEY.upper(), name="spsql")], expect={"spsql": "DBMSSOCN,sql2,1433"},
         misreading={"spsql": "DBMSSOCN,sql1,1433"},
         source=REG, quote="Key names are not case sensitive. ... Value names ... are not case sensitive."),
    dict(id="refresh-interval", refresh=True, expect={"documented range drawn": True, "drawn": [60.0, 120.0]},
         misreading={"documented range drawn": False, "drawn": [90.0, 90.0]},
         source="https://learn.microsoft.com/en-us/previous-versions/ms813077(v=msdn.10) (Group Policy refresh "
                "interval for computers)",
         quote="every 90 minutes, with a random offset of 0 to 30 minutes: the timeline draws 90 +/- 30, which "
               "contains every documented interval [90, 120]"),
]
