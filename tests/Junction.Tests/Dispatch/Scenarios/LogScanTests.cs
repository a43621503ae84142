using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Junction.Integrations.Mailchimp;
using Junction.Tests.Capture;
using Junction.Tests.Dispatch.Fakes;
using Junction.Tests.Support;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Dispatch.Scenarios;

/// <summary>
/// R8.4: scenario traffic (forms, the events API, a signed webhook, admin calls) through intake →
/// projector → dispatcher → the five fakes, with the failure paths that quote people back at us
/// (Mailchimp's permanent error naming the address, a receiver's 400 naming it, 429s, 5xx, the DLQ
/// and its replay), while every log line the host writes is captured at every level. No address
/// used in the traffic, nothing email-shaped, no Mailchimp subscriber hash of one, and no
/// configured secret may appear in any line, exception text included.
/// </summary>
public abstract partial class LogScanTests
{
    private const string Ada = "ada.lovelace@example.com";
    private const string Grace = "grace.hopper@example.org";
    private const string Forgotten = "forgotten.person@example.net";
    private const string Receiver = "named.by.receiver@example.com";
    private const string FormPerson = "form.person@example.com";
    private const string HookPerson = "hook.person@example.com";
    private const string Invalid = "not-an-address@@example";

    private static readonly string[] Addresses = [Ada, Grace, Forgotten, Receiver, FormPerson, HookPerson];

    private static readonly string[] Secrets =
    [
        JunctionServer.AdminToken, CaptureKit.ApiKey, JunctionServer.StandardSecret, ScenarioRig.HookSecret,
        FakeKit.ApiKey, FakeMailchimp.ApiKey, FakeTeachable.ApiKey, FakeGa4.ApiSecret,
        Convert.ToBase64String(Encoding.UTF8.GetBytes("junction:" + FakeMailchimp.ApiKey)),
    ];

    protected abstract Task<string> NewStorageAsync();

    [Fact]
    public async Task ScenarioTraffic_WithDeadLettersAndRetries_LogsNoAddressNoSubscriberHashAndNoSecret_AtAnyLevel()
    {
        var logs = new CapturedLogs();
        await using var rig = await ScenarioRig.StartAsync(await NewStorageAsync(), logs: logs);
        // Failure paths: a permanent Mailchimp error that names the address, a receiver's 400 naming one, 429s and 5xx.
        rig.Mailchimp.Forget(Forgotten);
        rig.Hook.RespondNext(1, 400, body: $"unknown subscriber {Receiver}; contact {Receiver} to fix");
        rig.Mailchimp.RateLimitNext(2);
        rig.Kit.FailNext(2, 503);
        rig.Teachable.FailNext(1, 502);

        await rig.PostAsync(OptIn(Ada, "2026-11-01T09:00:00Z"));
        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));
        await rig.PostAsync(OptIn(Grace, "2026-11-01T09:30:00Z"));
        await rig.PostAsync(OptIn(Forgotten, "2026-11-01T11:00:00Z"));

        using (var noRedirects = CaptureKit.NoRedirects(rig.Server))
        {
            var ok = await CaptureKit.PostFormAsync(noRedirects, CaptureKit.FormBody(("email", FormPerson), ("consent_email", "on")));
            Assert.Equal(HttpStatusCode.SeeOther, ok.StatusCode);
            var refused = await CaptureKit.PostFormAsync(noRedirects, CaptureKit.FormBody(("email", Invalid)));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        }
        var hook = Encoding.UTF8.GetBytes($$"""{"type":"optin","subject":{"email":"{{HookPerson}}"},"consent":[{"channel":"email","granted":true}]}""");
        var stamp = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        var accepted = await rig.Server.PostAsync("std", hook, "application/json", new Dictionary<string, string>
        {
            ["webhook-id"] = "msg_log_scan_1",
            ["webhook-timestamp"] = stamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["webhook-signature"] = Sign.StandardWebhooks(JunctionServer.StandardSecret, "msg_log_scan_1", stamp, hook),
        });
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var unsigned = await rig.Server.PostAsync("std", hook, "application/json", new Dictionary<string, string> { ["webhook-id"] = "x" });
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);

        var forgottenDead = await rig.WaitForDeliveriesAsync($"destination={ScenarioRig.MailchimpId}&state=dead", d => d.Count == 1);
        var receiverDead = await rig.WaitForDeliveriesAsync($"destination={ScenarioRig.HookId}&state=dead", d => d.Count == 1);
        await rig.EventuallyAsync(() => rig.Kit.TagsOf(Ada).Contains(ScenarioRig.PaidTag), "the Kit paid tag");
        await rig.EventuallyAsync(() => rig.Teachable.ActiveCourses(Ada).Count == 1, "the Teachable enrollment");
        await rig.EventuallyAsync(() => rig.Mailchimp.StatusOf(FormPerson) is not null, "the form opt-in at Mailchimp");
        var hookRaw = System.Text.Json.JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        await rig.Server.NormalizedAsync(hookRaw);

        // Operators at work: look people up, replay the DLQ, pause and resume.
        Assert.Equal(HttpStatusCode.OK, (await rig.Server.Admin.GetAsync($"/v1/people?email={Uri.EscapeDataString(Ada)}")).StatusCode);
        var ids = string.Join(',', forgottenDead.Concat(receiverDead).Select(d => d.GetProperty("id").GetInt64()));
        Assert.Equal(HttpStatusCode.OK, (await rig.AdminPostAsync("/v1/dlq/replay", $"{{\"ids\":[{ids}]}}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await rig.AdminPostAsync($"/v1/destinations/{ScenarioRig.KitId}/pause", $"{{\"reason\":\"asked by {Grace}\"}}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await rig.AdminPostAsync($"/v1/destinations/{ScenarioRig.KitId}/resume")).StatusCode);
        await rig.WaitForDeliveriesAsync($"destination={ScenarioRig.MailchimpId}&state=dead", d => d.Count == 1);
        await rig.SettledAsync();

        var lines = logs.Lines;
        // The capture works at every level: the dead deliveries (Warning) and the refused webhook (Debug) are in it.
        Assert.Contains(lines, l => l.EventId == 6002);
        Assert.Contains(lines, l => l.EventId == 2001 && l.Level == Microsoft.Extensions.Logging.LogLevel.Debug);
        // No outbound request is logged at all, so no URI (Mailchimp's hash path, Kit's query string) can be.
        Assert.DoesNotContain(lines, l => l.Category.StartsWith("System.Net.Http", StringComparison.Ordinal));
        var leaks = new List<string>();
        var hashes = Addresses.ToDictionary(MailchimpConnector.SubscriberHash, a => a, StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var text = line.ToString();
            foreach (var address in Addresses.Append(Invalid))
            {
                if (text.Contains(address, StringComparison.OrdinalIgnoreCase)) leaks.Add($"address {address}: {text}");
            }
            foreach (Match m in EmailShaped().Matches(text)) leaks.Add($"email-shaped '{m.Value}': {text}");
            foreach (var (hash, address) in hashes)
            {
                if (text.Contains(hash, StringComparison.OrdinalIgnoreCase)) leaks.Add($"subscriber hash of {address}: {text}");
            }
            foreach (var secret in Secrets)
            {
                if (text.Contains(secret, StringComparison.Ordinal)) leaks.Add($"secret {secret[..4]}…: {text}");
            }
        }
        Assert.True(leaks.Count == 0, $"{leaks.Count} leaks in {lines.Count} log lines:\n" + string.Join("\n", leaks.Distinct().Take(40)));

        // The stored reasons are masked too: the DLQ is read by people who need not see the address.
        var reason = forgottenDead[0].GetProperty("dead_reason").GetString()!;
        Assert.Contains("Forgotten Email Not Subscribed", reason, StringComparison.Ordinal);
        Assert.DoesNotContain(Forgotten, reason, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("f***@e***.net", reason, StringComparison.Ordinal);
        Assert.DoesNotContain(Receiver, receiverDead[0].GetProperty("dead_reason").GetString()!, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Receiver, await rig.Server.Admin.GetStringAsync("/v1/destinations"), StringComparison.OrdinalIgnoreCase);
    }

    [GeneratedRegex(@"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")]
    private static partial Regex EmailShaped();
}

public sealed class SqliteLogScanTests : LogScanTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresLogScanTests : LogScanTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
