<#
.SYNOPSIS
    Registers a Windows Task Scheduler task that runs bulkreset every night
    over the files dropped in <Directory>\inbox, signed in with a certificate
    or a managed identity. Run it once, elevated.

.DESCRIPTION
    The task runs Invoke-BulkReset.ps1 (next to this script; copied to
    <Directory>) as -RunAs: a group managed service account (gMSA, the
    recommended choice: no password to manage), a dedicated domain or local
    account (you are asked for its password), or SYSTEM (needed for an Azure
    Arc-enabled server's managed identity only if no group membership is
    wanted; prefer a dedicated account in "Hybrid agent extension
    applications"). The account needs "Log on as a batch job".

    It also restricts <Directory> to the task's account and Administrators,
    because the secrets files written there hold the new passwords.

    -MaxUsers (default 1000) is passed to every run as --max-users: a file
    with more users is refused, with nothing sent.

.EXAMPLE
    # Certificate auth, group managed service account, every night at 02:00:
    .\Register-BulkResetTask.ps1 -Directory D:\bulkreset -Bulkreset 'C:\Program Files\bulkreset\bulkreset.exe' `
        -TenantId contoso.onmicrosoft.com -ClientId 11111111-2222-3333-4444-555555555555 `
        -Certificate D:\bulkreset\app.pem -RunAs 'CONTOSO\gmsa-bulkreset$'

.EXAMPLE
    # Managed identity of an Azure VM, as a dedicated local account, at 06:30:
    .\Register-BulkResetTask.ps1 -Directory D:\bulkreset -Bulkreset C:\Tools\bulkreset.exe `
        -TenantId contoso.onmicrosoft.com -Auth managed-identity -RunAs '.\svc-bulkreset' -At 06:30

.EXAMPLE
    # See it, run it now, read its result:
    Get-ScheduledTask -TaskName bulkreset | Get-ScheduledTaskInfo
    Start-ScheduledTask -TaskName bulkreset
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $Directory,
    [Parameter(Mandatory)] [string] $Bulkreset,
    [Parameter(Mandatory)] [string] $TenantId,
    [string] $ClientId = '',
    [ValidateSet('certificate', 'managed-identity')] [string] $Auth = 'certificate',
    [string] $Certificate = '',
    [Parameter(Mandatory)] [string] $RunAs,
    [string] $At = '02:00',
    [string] $TaskName = 'bulkreset',
    [ValidateRange(1, [int]::MaxValue)] [int] $MaxUsers = 1000,
    [string[]] $ExtraArgs = @()
)
$ErrorActionPreference = 'Stop'

if (-not (Test-Path -LiteralPath $Bulkreset -PathType Leaf)) { throw "bulkreset.exe not found at '$Bulkreset'" }
if ($Auth -eq 'certificate' -and -not (Test-Path -LiteralPath $Certificate -PathType Leaf)) {
    throw "-Auth certificate needs -Certificate, a .pem or .pfx file"
}
if ($Auth -eq 'certificate' -and -not $ClientId) { throw "-Auth certificate needs -ClientId, the app registration's client id" }

New-Item -ItemType Directory -Force -Path $Directory | Out-Null
$runner = Join-Path $Directory 'Invoke-BulkReset.ps1'
Copy-Item -LiteralPath (Join-Path $PSScriptRoot 'Invoke-BulkReset.ps1') -Destination $runner -Force

# Only the task's account and Administrators may read the directory (the
# secrets files, the certificate if kept there, the log).
if ($PSCmdlet.ShouldProcess($Directory, "restrict to $RunAs and Administrators")) {
    & icacls.exe $Directory /inheritance:r /grant:r "*S-1-5-32-544:(OI)(CI)F" "*S-1-5-18:(OI)(CI)F" "${RunAs}:(OI)(CI)M" | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "icacls failed on $Directory" }
    if ($Certificate) {
        & icacls.exe $Certificate /inheritance:r /grant:r "*S-1-5-32-544:F" "${RunAs}:R" | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "icacls failed on $Certificate" }
    }
}

# The command line holds no secret: it is visible in Task Scheduler.
function Quote([string] $s) { "'" + $s.Replace("'", "''") + "'" }
$command = "& $(Quote $runner) -Directory $(Quote $Directory) -Bulkreset $(Quote $Bulkreset) -TenantId $(Quote $TenantId) -Auth $Auth"
if ($ClientId) { $command += " -ClientId $(Quote $ClientId)" }
if ($Certificate) { $command += " -Certificate $(Quote $Certificate)" }
$command += " -MaxUsers $MaxUsers"
if ($ExtraArgs) { $command += " -ExtraArgs @(" + (($ExtraArgs | ForEach-Object { Quote $_ }) -join ',') + ")" }
$command += "; exit `$LASTEXITCODE"
$action = New-ScheduledTaskAction -Execute 'powershell.exe' -WorkingDirectory $Directory `
    -Argument "-NoProfile -NonInteractive -ExecutionPolicy Bypass -Command `"$command`""

$trigger = New-ScheduledTaskTrigger -Daily -At $At
$settings = New-ScheduledTaskSettingsSet -StartWhenAvailable -MultipleInstances IgnoreNew `
    -ExecutionTimeLimit (New-TimeSpan -Hours 8) -DontStopIfGoingOnBatteries -AllowStartIfOnBatteries

$register = @{
    TaskName    = $TaskName
    Description = "bulkreset: reset the Entra ID passwords of the users in $Directory\inbox (docs/scheduling.md)"
    Action      = $action
    Trigger     = $trigger
    Settings    = $settings
    Force       = $true
}
if ($RunAs.EndsWith('$')) {
    # A gMSA: Windows fetches its password from Active Directory.
    $register.Principal = New-ScheduledTaskPrincipal -UserId $RunAs -LogonType Password -RunLevel Limited
} elseif ($RunAs -in 'SYSTEM', 'NT AUTHORITY\SYSTEM') {
    $register.Principal = New-ScheduledTaskPrincipal -UserId 'NT AUTHORITY\SYSTEM' -LogonType ServiceAccount -RunLevel Limited
} else {
    # An ordinary account: "Run whether user is logged on or not" needs its password.
    $cred = Get-Credential -UserName $RunAs -Message "Password of $RunAs, the account the bulkreset task runs as"
    $register.User = $cred.UserName
    $register.Password = $cred.GetNetworkCredential().Password
    $register.RunLevel = 'Limited'
}
if ($PSCmdlet.ShouldProcess($TaskName, 'Register-ScheduledTask')) {
    Register-ScheduledTask @register | Out-Null
    Write-Output "Registered task '$TaskName': daily at $At as $RunAs. Drop input files in $Directory\inbox."
    Write-Output "Run it now with: Start-ScheduledTask -TaskName '$TaskName'"
}
