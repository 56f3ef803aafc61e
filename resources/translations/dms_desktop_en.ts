<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>BulkTagDialog</name>
    <message numerus="yes">
        <source>Edit tags of %n document(s)</source>
        <translation>
            <numerusform>Edit tags of %n document</numerusform>
            <numerusform>Edit tags of %n documents</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>CleanupDialog</name>
    <message numerus="yes">
        <source>Delete %n document(s)</source>
        <translation>
            <numerusform>Delete %n document</numerusform>
            <numerusform>Delete %n documents</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Delete %n document(s)?</source>
        <translation>
            <numerusform>Delete %n document?</numerusform>
            <numerusform>Delete %n documents?</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ConsistencyDialog</name>
    <message numerus="yes">
        <source>Make %n repair(s) ({kinds})?</source>
        <translation>
            <numerusform>Make %n repair ({kinds})?</numerusform>
            <numerusform>Make %n repairs ({kinds})?</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DesktopApp</name>
    <message numerus="yes">
        <source>{message} (and %n more: see Details)</source>
        <translation>
            <numerusform>{message} (and %n more: see Details)</numerusform>
            <numerusform>{message} (and %n more: see Details)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n transfer(s) still running. Cancel and sign out?</source>
        <translation>
            <numerusform>%n transfer is still running. Cancel it and sign out?</numerusform>
            <numerusform>%n transfers are still running. Cancel them and sign out?</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DetailPane</name>
    <message numerus="yes">
        <source>%n document(s) selected</source>
        <translation>
            <numerusform>%n document selected</numerusform>
            <numerusform>%n documents selected</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DocumentActions</name>
    <message numerus="yes">
        <source>%n file(s) already exist in {folder}: {names}.
Replace them? (No keeps them and skips those documents.)</source>
        <translation>
            <numerusform>%n file already exists in {folder}: {names}.
Replace them? (No keeps them and skips those documents.)</numerusform>
            <numerusform>%n files already exist in {folder}: {names}.
Replace them? (No keeps them and skips those documents.)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n document(s)</source>
        <translation>
            <numerusform>%n document</numerusform>
            <numerusform>%n documents</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>…and %n more</source>
        <translation>
            <numerusform>…and %n more</numerusform>
            <numerusform>…and %n more</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Delete %n document(s) for good? This cannot be undone (Delete without Shift moves them to the trash instead).

{names}</source>
        <translation>
            <numerusform>Delete %n document for good? This cannot be undone (Delete without Shift moves them to the trash instead).

{names}</numerusform>
            <numerusform>Delete %n documents for good? This cannot be undone (Delete without Shift moves them to the trash instead).

{names}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n document(s) could not be deleted.</source>
        <translation>
            <numerusform>%n document could not be deleted.</numerusform>
            <numerusform>%n documents could not be deleted.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Deleted %n document(s)</source>
        <translation>
            <numerusform>Deleted %n document</numerusform>
            <numerusform>Deleted %n documents</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DocumentTableModel</name>
    <message numerus="yes">
        <source>%n document(s) as of {time}, not yet updated</source>
        <translation>
            <numerusform>%n document as of {time}, not yet updated</numerusform>
            <numerusform>%n documents as of {time}, not yet updated</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n document(s) loaded, more available</source>
        <translation>
            <numerusform>%n document loaded, more available</numerusform>
            <numerusform>%n documents loaded, more available</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n document(s)</source>
        <translation>
            <numerusform>%n document</numerusform>
            <numerusform>%n documents</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>LifecycleActions</name>
    <message numerus="yes">
        <source>%n document(s) could not be moved to the trash.</source>
        <translation>
            <numerusform>%n document could not be moved to the trash.</numerusform>
            <numerusform>%n documents could not be moved to the trash.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n document(s) moved to the trash</source>
        <translation>
            <numerusform>%n document moved to the trash</numerusform>
            <numerusform>%n documents moved to the trash</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n document(s) could not be restored.</source>
        <translation>
            <numerusform>%n document could not be restored.</numerusform>
            <numerusform>%n documents could not be restored.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Restored %n document(s)</source>
        <translation>
            <numerusform>Restored %n document</numerusform>
            <numerusform>Restored %n documents</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Changing the tags of %n document(s)…</source>
        <translation>
            <numerusform>Changing the tags of %n document…</numerusform>
            <numerusform>Changing the tags of %n documents…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n document(s) could not be retagged.</source>
        <translation>
            <numerusform>%n document could not be retagged.</numerusform>
            <numerusform>%n documents could not be retagged.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Changed the tags of %n document(s)</source>
        <translation>
            <numerusform>Changed the tags of %n document</numerusform>
            <numerusform>Changed the tags of %n documents</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message numerus="yes">
        <source>%n transfer(s) still running. Cancel and quit?</source>
        <translation>
            <numerusform>%n transfer is still running. Cancel it and quit?</numerusform>
            <numerusform>%n transfers are still running. Cancel them and quit?</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>SearchResultsView</name>
    <message numerus="yes">
        <source>%n document(s) found (the best ones) in {ms} ms</source>
        <translation>
            <numerusform>%n document found (the best ones) in {ms} ms</numerusform>
            <numerusform>%n documents found (the best ones) in {ms} ms</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n document(s) found in {ms} ms</source>
        <translation>
            <numerusform>%n document found in {ms} ms</numerusform>
            <numerusform>%n documents found in {ms} ms</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>TransferQueue</name>
    <message numerus="yes">
        <source>%n file(s)</source>
        <translation>
            <numerusform>%n file</numerusform>
            <numerusform>%n files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n file(s) could not be transferred:</source>
        <translation>
            <numerusform>%n file could not be transferred:</numerusform>
            <numerusform>%n files could not be transferred:</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>TransferTableModel</name>
    <message numerus="yes">
        <source>%n failed</source>
        <translation>
            <numerusform>%n failed</numerusform>
            <numerusform>%n failed</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>TrashView</name>
    <message numerus="yes">
        <source>Trash: %n document(s)</source>
        <translation>
            <numerusform>Trash: %n document</numerusform>
            <numerusform>Trash: %n documents</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n document(s) could not be restored.</source>
        <translation>
            <numerusform>%n document could not be restored.</numerusform>
            <numerusform>%n documents could not be restored.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n document(s) could not be deleted.</source>
        <translation>
            <numerusform>%n document could not be deleted.</numerusform>
            <numerusform>%n documents could not be deleted.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Delete all %n document(s) in the trash for good? This cannot be undone.</source>
        <translation>
            <numerusform>Delete the %n document in the trash for good? This cannot be undone.</numerusform>
            <numerusform>Delete all %n documents in the trash for good? This cannot be undone.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>…and %n more</source>
        <translation>
            <numerusform>…and %n more</numerusform>
            <numerusform>…and %n more</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Delete %n document(s) for good? This cannot be undone.</source>
        <translation>
            <numerusform>Delete %n document for good? This cannot be undone.</numerusform>
            <numerusform>Delete %n documents for good? This cannot be undone.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>UploadDialog</name>
    <message numerus="yes">
        <source> day(s)</source>
        <translation>
            <numerusform> day</numerusform>
            <numerusform> days</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n file(s) cannot be uploaded (see the Status column); remove them to go on.</source>
        <translation>
            <numerusform>%n file cannot be uploaded (see the Status column); remove them to go on.</numerusform>
            <numerusform>%n files cannot be uploaded (see the Status column); remove them to go on.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n file(s), {size}.</source>
        <translation>
            <numerusform>%n file, {size}.</numerusform>
            <numerusform>%n files, {size}.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Checking %n for duplicates…</source>
        <translation>
            <numerusform>Checking %n for duplicates…</numerusform>
            <numerusform>Checking %n for duplicates…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n already stored: skipped unless you tick “Upload anyway” on the row.</source>
        <translation>
            <numerusform>%n already stored: skipped unless you tick “Upload anyway” on the row.</numerusform>
            <numerusform>%n already stored: skipped unless you tick “Upload anyway” on the row.</numerusform>
        </translation>
    </message>
</context>
</TS>
