using System.Net.Http.Json;
using System.Text.Json;
using Junction.Tests.Dispatch.Scenarios;
using Junction.Tests.Support;
using static Junction.Tests.Dispatch.Scenarios.ScenarioRig;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Audit;

/// <summary>
/// The audit against a stateful Kit: a tag removed or added by hand in Kit is found by read-back,
/// healed by a re-sync that diffs against what Kit holds, once however often the audit runs, and
/// the person's timeline says "reconciled after failure". Run per storage engine.
/// </summary>
public abstract class AuditHealScenarioTests
{
    private const string Ada = "ada@example.com";

    protected abstract Task<string> NewStorageAsync();

    [Fact]
    public async Task PaidTagRemovedByHandInKit_IsFoundByReadBack_HealedOnce_AndReconciledOnTheTimeline()
    {
        await using var rig = await ScenarioRig.StartAsync(await NewStorageAsync());
        await rig.PostAsync(Paid("ord_1", Ada, Observability.Iso.Utc(TimeProvider.System.GetUtcNow().AddHours(-1))));
        await rig.EventuallyAsync(() => rig.Kit.TagsOf(Ada).Contains(PaidTag), "the Kit paid tag");
        await rig.SettledAsync();
        var clean = await AuditKit.RunAsync(rig.Server.Admin);
        Assert.Empty(AuditKit.Findings(clean, "paid_without_access"));

        rig.Kit.UntagByHand(Ada, PaidTag);
        // Held while Kit is paused, so two audits in a row both see the drift before any heal lands.
        using (await rig.AdminPostAsync($"/v1/destinations/{KitId}/pause", """{"reason":"audit test"}""")) { }
        var first = await AuditKit.RunAsync(rig.Server.Admin);
        var second = await AuditKit.RunAsync(rig.Server.Admin);

        var finding = Assert.Single(AuditKit.Findings(first, "paid_without_access"));
        Assert.Equal(("tag_missing", KitId, "ord_1"), (finding.GetProperty("kind").GetString(), finding.GetProperty("destination").GetString(), finding.GetProperty("order_id").GetString()));
        Assert.Equal(("resync", "queued"), (finding.GetProperty("heal").GetProperty("action").GetString(), finding.GetProperty("heal").GetProperty("status").GetString()));
        Assert.Equal(4900, first.GetProperty("points")[2].GetProperty("revenue_at_risk").GetProperty("USD").GetInt64());
        var again = Assert.Single(AuditKit.Findings(second, "paid_without_access"));
        Assert.Equal(finding.GetProperty("heal").GetProperty("delivery_id").GetInt64(), again.GetProperty("heal").GetProperty("delivery_id").GetInt64());
        Assert.Single(await rig.DeliveriesAsync($"destination={KitId}&state=held"));

        using (await rig.AdminPostAsync($"/v1/destinations/{KitId}/resume")) { }
        await rig.EventuallyAsync(() => rig.Kit.TagsOf(Ada).Contains(PaidTag), "the healed paid tag");
        await rig.SettledAsync();
        Assert.Equal(2, rig.KitTagAdds().Values.Max()); // the first sync and one heal, not one per audit

        var healed = await rig.Server.Admin.GetFromJsonAsync<JsonElement>($"/v1/audits/{first.GetProperty("id").GetString()}");
        Assert.Equal("healed", Assert.Single(AuditKit.Findings(healed, "paid_without_access")).GetProperty("heal").GetProperty("status").GetString());
        Assert.Empty(AuditKit.Findings(await AuditKit.RunAsync(rig.Server.Admin), "paid_without_access")); // confirmed by the next read-back

        var person = await GetJsonAsync(rig.Server.Admin, $"/v1/people?email={Ada}");
        var timeline = await GetJsonAsync(rig.Server.Admin, $"/v1/people/{person.GetProperty("id").GetString()}/timeline");
        Assert.Contains(timeline.GetProperty("items").EnumerateArray(), i => i.GetProperty("kind").GetString() == "audit"
            && i.GetProperty("summary").GetString()!.StartsWith("reconciled after failure: tag_missing at kit", StringComparison.Ordinal)
            && i.GetProperty("id").GetString() == first.GetProperty("id").GetString());
    }

    [Fact]
    public async Task RefundedCustomerTaggedAgainByHand_IsARefundLeak_AndTheHealRemovesOnlyJunctionsTag()
    {
        await using var rig = await ScenarioRig.StartAsync(await NewStorageAsync());
        var now = TimeProvider.System.GetUtcNow();
        await rig.PostAsync(Paid("ord_1", Ada, Observability.Iso.Utc(now.AddHours(-2))));
        await rig.EventuallyAsync(() => rig.Kit.TagsOf(Ada).Contains(PaidTag), "the Kit paid tag");
        await rig.PostAsync(Refund("ord_1", Ada, Observability.Iso.Utc(now.AddHours(-1))));
        await rig.EventuallyAsync(() => !rig.Kit.TagsOf(Ada).Contains(PaidTag), "the paid tag removal");
        await rig.SettledAsync();

        rig.Kit.AddTag("VIP");
        rig.Kit.TagByHand(Ada, PaidTag);
        rig.Kit.TagByHand(Ada, "VIP"); // the creator's own tag: not Junction's to touch

        var report = await AuditKit.RunAsync(rig.Server.Admin);
        var leak = Assert.Single(AuditKit.Findings(report, "refund_leaks"));
        Assert.Equal(("tag_leak", KitId), (leak.GetProperty("kind").GetString(), leak.GetProperty("destination").GetString()));
        Assert.Equal("high", report.GetProperty("points")[4].GetProperty("severity").GetString());

        await rig.EventuallyAsync(() => !rig.Kit.TagsOf(Ada).Contains(PaidTag), "the leaked tag's removal");
        await rig.SettledAsync();
        Assert.Contains("VIP", rig.Kit.TagsOf(Ada));
        Assert.Empty(AuditKit.Findings(await AuditKit.RunAsync(rig.Server.Admin), "refund_leaks"));
    }


}

public sealed class SqliteAuditHealScenarioTests : AuditHealScenarioTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresAuditHealScenarioTests : AuditHealScenarioTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
