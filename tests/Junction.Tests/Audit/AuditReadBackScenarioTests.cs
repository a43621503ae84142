using Junction.Tests.Dispatch.Scenarios;
using Junction.Tests.Support;
using static Junction.Tests.Dispatch.Scenarios.ScenarioRig;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Audit;

/// <summary>
/// The audit against stateful Teachable and Mailchimp fakes: an enrollment deleted or added by hand
/// in Teachable and a tag removed by hand in Mailchimp are found by their read-backs, healed by a
/// re-sync, and the next audit is clean. Run per storage engine.
/// </summary>
public abstract class AuditReadBackScenarioTests
{
    private const string Ada = "ada@example.com";

    protected abstract Task<string> NewStorageAsync();

    [Fact]
    public async Task PaidEnrollmentDeletedByHandInTeachable_IsCourseMissing_ReEnrolledByTheHeal_AndTheNextAuditIsClean()
    {
        await using var rig = await ScenarioRig.StartAsync(await NewStorageAsync());
        await rig.PostAsync(Paid("ord_1", Ada, Observability.Iso.Utc(TimeProvider.System.GetUtcNow().AddHours(-1))));
        await rig.EventuallyAsync(() => rig.Teachable.ActiveCourses(Ada).Contains(CourseId), "the Teachable enrollment");
        await rig.SettledAsync();
        Assert.Empty(AuditKit.Findings(await AuditKit.RunAsync(rig.Server.Admin), "paid_without_access"));

        rig.Teachable.UnenrollByHand(Ada, CourseId);
        var report = await AuditKit.RunAsync(rig.Server.Admin);

        var finding = Assert.Single(AuditKit.Findings(report, "paid_without_access"));
        Assert.Equal(("course_missing", TeachableId, "ord_1"),
            (finding.GetProperty("kind").GetString(), finding.GetProperty("destination").GetString(), finding.GetProperty("order_id").GetString()));
        Assert.Equal("resync", finding.GetProperty("heal").GetProperty("action").GetString());
        await rig.EventuallyAsync(() => rig.Teachable.ActiveCourses(Ada).Contains(CourseId), "the healed enrollment");
        await rig.SettledAsync();
        Assert.Empty(AuditKit.Findings(await AuditKit.RunAsync(rig.Server.Admin), "paid_without_access"));
    }

    [Fact]
    public async Task RefundedCustomerReEnrolledByHandInTeachable_IsACourseLeak_AndTheHealUnenrolls()
    {
        await using var rig = await ScenarioRig.StartAsync(await NewStorageAsync());
        var now = TimeProvider.System.GetUtcNow();
        await rig.PostAsync(Paid("ord_1", Ada, Observability.Iso.Utc(now.AddHours(-2))));
        await rig.EventuallyAsync(() => rig.Teachable.ActiveCourses(Ada).Contains(CourseId), "the Teachable enrollment");
        await rig.PostAsync(Refund("ord_1", Ada, Observability.Iso.Utc(now.AddHours(-1))));
        await rig.EventuallyAsync(() => rig.Teachable.ActiveCourses(Ada).Count == 0, "the unenrollment on refund");
        await rig.SettledAsync();
        Assert.Empty(AuditKit.Findings(await AuditKit.RunAsync(rig.Server.Admin), "refund_leaks"));

        rig.Teachable.EnrollByHand(Ada, CourseId);
        var report = await AuditKit.RunAsync(rig.Server.Admin);

        var leak = Assert.Single(AuditKit.Findings(report, "refund_leaks"));
        Assert.Equal(("course_leak", TeachableId), (leak.GetProperty("kind").GetString(), leak.GetProperty("destination").GetString()));
        await rig.EventuallyAsync(() => rig.Teachable.ActiveCourses(Ada).Count == 0, "the leaked enrollment's removal");
        await rig.SettledAsync();
        Assert.Empty(AuditKit.Findings(await AuditKit.RunAsync(rig.Server.Admin), "refund_leaks"));
    }

    [Fact]
    public async Task PaidTagRemovedByHandInMailchimp_IsFoundByReadBack_AndHealed()
    {
        await using var rig = await ScenarioRig.StartAsync(await NewStorageAsync());
        await rig.PostAsync(Paid("ord_1", Ada, Observability.Iso.Utc(TimeProvider.System.GetUtcNow().AddHours(-1))));
        await rig.EventuallyAsync(() => rig.Mailchimp.TagsOf(Ada).Contains(PaidTag), "the Mailchimp paid tag");
        await rig.SettledAsync();
        Assert.Empty(AuditKit.Findings(await AuditKit.RunAsync(rig.Server.Admin), "paid_without_access"));

        rig.Mailchimp.UntagByHand(Ada, PaidTag);
        rig.Mailchimp.TagByHand(Ada, "VIP"); // the creator's own tag: not Junction's to touch
        var report = await AuditKit.RunAsync(rig.Server.Admin);

        var finding = Assert.Single(AuditKit.Findings(report, "paid_without_access"));
        Assert.Equal(("tag_missing", MailchimpId, "ord_1"),
            (finding.GetProperty("kind").GetString(), finding.GetProperty("destination").GetString(), finding.GetProperty("order_id").GetString()));
        await rig.EventuallyAsync(() => rig.Mailchimp.TagsOf(Ada).Contains(PaidTag), "the healed Mailchimp tag");
        await rig.SettledAsync();
        Assert.Contains("VIP", rig.Mailchimp.TagsOf(Ada));
        Assert.Empty(AuditKit.Findings(await AuditKit.RunAsync(rig.Server.Admin), "paid_without_access"));
    }


}

public sealed class SqliteAuditReadBackScenarioTests : AuditReadBackScenarioTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresAuditReadBackScenarioTests : AuditReadBackScenarioTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
