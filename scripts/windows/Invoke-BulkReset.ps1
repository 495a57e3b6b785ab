<#
.SYNOPSIS
    One scheduled bulkreset run: resets the users of every file waiting in
    <Directory>\inbox. Register-BulkResetTask.ps1 schedules it.

.DESCRIPTION
    For each .csv, .txt, .tsv or .xlsx file in <Directory>\inbox, oldest
    first, runs bulkreset reset and writes <Directory>\out\NAME-STAMP-results.csv
    and <Directory>\out\NAME-STAMP-secrets.csv; every log record (down to each
    retry, with the row's line and Graph's request-id) is appended to
    <Directory>\bulkreset.log as JSON lines. Then the file is moved:

      exit 0 or 3 (every row has a result)    -> <Directory>\done\STAMP-NAME
      exit 2 (the file or the flags are bad)  -> <Directory>\failed\STAMP-NAME
      exit 1 or 130 (sign-in failed, an output not writable, stopped)
                                              -> left in the inbox for the next run

    A file left in the inbox after an interrupted or stopped run is resumed
    by the next run (bulkreset reset --resume -o on the same results file,
    with the settings recorded beside it): users already done are not sent
    again, and each user keeps one password, the one in the secrets file.
    The pending run is remembered in <Directory>\inbox\.NAME.resume; a run
    that stopped before recording its settings (sign-in failed) is started
    anew. Should the file or the flags have changed meanwhile, the resume
    refuses them (exit 2) and the file goes to failed.

    Every run passes --max-users (-MaxUsers, default 1000): a file with more
    users (an HR export of the whole company) is refused (exit 2, nothing
    sent) and goes to failed.

    The script's exit code is the highest of bulkreset's, which Task
    Scheduler shows as "Last Run Result" (0x3: some rows failed; 0x1: fatal).
    Keep <Directory> readable only by the task's account and administrators:
    the secrets files hold the new passwords.

.PARAMETER Directory
    The working directory, e.g. D:\bulkreset. Created with inbox, out, done
    and failed beneath it.

.PARAMETER Bulkreset
    Full path of bulkreset.exe.

.PARAMETER TenantId
    Tenant id or verified domain (sets AZURE_TENANT_ID).

.PARAMETER ClientId
    The app registration's client id (sets AZURE_CLIENT_ID). With
    -Auth managed-identity: the client id of a user-assigned identity, or
    empty for the system-assigned one.

.PARAMETER Auth
    certificate (default) or managed-identity (Azure VM, Arc-enabled server).

.PARAMETER Certificate
    With -Auth certificate: a .pem (certificate and key) or .pfx file that
    only the task's account can read. A .pfx with a password needs the
    password in AZURE_CLIENT_CERTIFICATE_PASSWORD: see docs/scheduling.md.

.PARAMETER MaxUsers
    The most users one input file may have (--max-users); default 1000.

.PARAMETER ExtraArgs
    More flags for bulkreset reset, e.g. @('--cloud','usgov') or
    @('--password-mode','none').
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Directory,
    [Parameter(Mandatory)] [string] $Bulkreset,
    [Parameter(Mandatory)] [string] $TenantId,
    [string] $ClientId = '',
    [ValidateSet('certificate', 'managed-identity')] [string] $Auth = 'certificate',
    [string] $Certificate = '',
    [ValidateRange(1, [int]::MaxValue)] [int] $MaxUsers = 1000,
    [string[]] $ExtraArgs = @()
)
$ErrorActionPreference = 'Stop'

foreach ($d in 'inbox', 'out', 'done', 'failed') {
    New-Item -ItemType Directory -Force -Path (Join-Path $Directory $d) | Out-Null
}

# Configuration for bulkreset: flags win over these, but the task passes none.
$env:AZURE_TENANT_ID = $TenantId
if ($ClientId) { $env:AZURE_CLIENT_ID = $ClientId }
$authArgs = @('--auth', $Auth)
if ($Auth -eq 'certificate') {
    if (-not (Test-Path -LiteralPath $Certificate -PathType Leaf)) {
        [Console]::Error.WriteLine("Invoke-BulkReset: certificate file '$Certificate' not found")
        exit 2
    }
    $env:AZURE_CLIENT_CERTIFICATE_PATH = $Certificate
    # A .pfx password kept with DPAPI by the task's account (see docs):
    $pwFile = Join-Path $Directory 'certificate-password.xml'
    if (Test-Path -LiteralPath $pwFile) {
        $env:AZURE_CLIENT_CERTIFICATE_PASSWORD = (Import-Clixml -LiteralPath $pwFile).GetNetworkCredential().Password
    }
}

$log = Join-Path $Directory 'bulkreset.log'
$status = 0
$inputs = Get-ChildItem -LiteralPath (Join-Path $Directory 'inbox') -File |
    Where-Object { $_.Extension -in '.csv', '.txt', '.tsv', '.xlsx' } |
    Sort-Object LastWriteTime
foreach ($file in $inputs) {
    $stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ')
    $pending = Join-Path $file.DirectoryName ".$($file.Name).resume" # the out prefix of a run to finish
    $out = $null
    if (Test-Path -LiteralPath $pending -PathType Leaf) { $out = (Get-Content -LiteralPath $pending -TotalCount 1) }
    $common = @('--yes', '--quiet', '--log-format', 'json', '--log-file', $log, '--max-users', $MaxUsers) + $authArgs + $ExtraArgs
    if ($out -and (Test-Path -LiteralPath "$out-results.csv.run.json" -PathType Leaf)) {
        [Console]::Error.WriteLine("Invoke-BulkReset: $($file.Name): resuming the unfinished run of $out-results.csv")
        $resetArgs = @('reset', '--resume', '-o', "$out-results.csv") + $common
    } else {
        $out = Join-Path (Join-Path $Directory 'out') ("{0}-{1}" -f $file.BaseName, $stamp)
        # Written first: the run may be stopped at any time (shutdown).
        Set-Content -LiteralPath $pending -Value $out
        $resetArgs = @('reset', '-i', $file.FullName, '-o', "$out-results.csv", '--secrets', "$out-secrets.csv") + $common
    }
    # bulkreset's standard error (warnings, errors, the summary) must not
    # become a terminating PowerShell error: its exit code says how it went.
    $ErrorActionPreference = 'Continue'
    & $Bulkreset @resetArgs
    $rc = $LASTEXITCODE
    $ErrorActionPreference = 'Stop'
    switch ($rc) {
        { $_ -in 0, 3 } {
            Move-Item -LiteralPath $file.FullName -Destination (Join-Path (Join-Path $Directory 'done') "$stamp-$($file.Name)")
            Remove-Item -LiteralPath $pending -ErrorAction SilentlyContinue
        }
        2 {
            Move-Item -LiteralPath $file.FullName -Destination (Join-Path (Join-Path $Directory 'failed') "$stamp-$($file.Name)")
            Remove-Item -LiteralPath $pending -ErrorAction SilentlyContinue
        }
        default { } # 1, 130: the next run resumes it
    }
    Write-Output ("{0}: exit {1}" -f $file.Name, $rc)
    if ($rc -gt $status) { $status = $rc }
    if ($rc -eq 130) { break }
}
exit $status
