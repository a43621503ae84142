using Junction.Alerts;
using Junction.Config;

namespace Junction.Tests.Alerts;

public sealed class AlertConfigTests
{
    private const string Base = """
        storage: "sqlite:./data/junction.db"
        sources:
          stripe-main: { provider: stripe, secrets: ["whsec_config_test_secret"] }
        products:
          course-pro:
            match: [{ source: stripe-main, price: price_123 }]
        destinations:
          teachable-main:
            type: teachable
            credentials: { api_key: "teachable-key-0123456789" }
            courses: { course-pro: "101" }

        """;

    private static readonly Dictionary<string, string> Env = new(StringComparer.Ordinal)
    {
        ["SLACK_WEBHOOK_URL"] = "https://hooks.slack.com/services/T0/B0/X",
        ["ALERT_WEBHOOK_SECRET"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ["SMTP_PASSWORD"] = "smtp-secret",
    };

    private static JunctionConfig Parse(string yaml) => ConfigLoader.Parse(Base + yaml, "junction.yaml", n => Env.GetValueOrDefault(n));

    [Fact]
    public void NoAlertsSection_EveryRuleIsOn_WithTheSeedsDefaults()
    {
        var alerts = Parse("").Alerts;
        Assert.Equal(AlertRules.Names.Order(StringComparer.Ordinal), alerts.Rules.Keys.Order(StringComparer.Ordinal));
        Assert.All(alerts.Rules.Values, r => Assert.True(r.Enabled));
        Assert.Equal((0.02, TimeSpan.FromMinutes(30)), (alerts.Rules[AlertRules.PaymentFailures].Threshold, alerts.Rules[AlertRules.PaymentFailures].Window));
        Assert.Equal(0.30, alerts.Rules[AlertRules.EnrollmentsDown].Threshold);
        Assert.Equal(0.50, alerts.Rules[AlertRules.IngestionDown].Threshold);
        Assert.Equal(0.90, alerts.Rules[AlertRules.ReconciliationLow].Threshold);
        Assert.Equal(3, alerts.Rules[AlertRules.SourceSilent].Threshold);
        Assert.All(alerts.Rules.Values, r => Assert.Equal(TimeSpan.FromMinutes(15), r.Cooldown));
    }

    [Fact]
    public void TheReadmeExample_Loads_WithRulesNotifiersAndRunbooks()
    {
        // The README's own example, read from README.md.
        var readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));
        var section = readme[readme.IndexOf("## Alerts and incidents", StringComparison.Ordinal)..];
        var yaml = section[(section.IndexOf("```yaml\n", StringComparison.Ordinal) + 8)..];
        var alerts = Parse(yaml[..yaml.IndexOf("```", StringComparison.Ordinal)]).Alerts;
        Assert.Equal(TimeSpan.FromMinutes(1), alerts.Interval);
        var payments = alerts.Rules[AlertRules.PaymentFailures];
        Assert.Equal((0.02, TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(5)), (payments.Threshold, payments.Window, payments.For));
        Assert.Equal(["ops-slack"], alerts.NotifyFor(AlertRules.PaymentFailures));
        Assert.Equal((3.0, TimeSpan.FromMinutes(30)), (alerts.Rules[AlertRules.SourceSilent].Threshold, alerts.Rules[AlertRules.SourceSilent].Cooldown));
        Assert.False(alerts.Rules[AlertRules.DlqGrowing].Enabled);
        Assert.Equal(["ops-slack", "mail"], alerts.NotifyFor(AlertRules.EnrollmentsDown));
        Assert.Equal(["mail", "ops-slack", "pager"], alerts.NotifyFor(AlertRules.SmokeFailing));
        Assert.Equal(new RunbookAction("pause", "teachable-main"), alerts.Runbooks[AlertRules.EnrollmentsDown].Rollback);
        Assert.Equal("smtp-secret", alerts.Notifiers["mail"].Password);
    }

    [Fact]
    public void HoldSignups_IsRefused_WithAClearError()
    {
        var ex = Assert.Throws<ConfigException>(() => Parse("""
            runbooks:
              ingestion_down: { rollback: { hold_signups: lead-form } }
            """));
        var error = Assert.Single(ex.Errors);
        Assert.Equal("runbooks.ingestion_down.rollback.hold_signups", error.Path);
        Assert.Contains("not supported yet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rollback_WrittenAsOneString_IsTheSameAction_AndHoldSignupsIsRefusedThereToo()
    {
        var alerts = Parse("""
            runbooks:
              dlq_growing: { rollback: "resume: teachable-main" }
            """).Alerts;
        Assert.Equal(new RunbookAction("resume", "teachable-main"), alerts.Runbooks[AlertRules.DlqGrowing].Rollback);
        var ex = Assert.Throws<ConfigException>(() => Parse("""
            runbooks:
              dlq_growing: { rollback: "hold_signups: lead-form" }
            """));
        Assert.Equal("runbooks.dlq_growing.rollback.hold_signups", Assert.Single(ex.Errors).Path);
    }

    [Fact]
    public void Mistakes_AreEachReported_WithTheirKeyPath()
    {
        var ex = Assert.Throws<ConfigException>(() => Parse("""
            alerts:
              payment_failure: { threshold: 2% }
              enrollments_down: { threshold: 130%, notify: [nobody] }
              smoke_failing: { threshold: 2 }
            notifiers:
              hook: { type: webhook, url: "https://ops.example.com/x", secret: "not-a-whsec" }
              mail: { type: email, host: smtp.example.com, to: [ops@creator.example] }
              chat: { type: teams, url: "https://x.example.com" }
            runbooks:
              smoke_failing: { rollback: { pause: no-such-destination } }
            """));
        var paths = ex.Errors.Select(e => e.Path).ToList();
        Assert.Contains("alerts.payment_failure", paths);
        Assert.Contains("alerts.enrollments_down.threshold", paths);
        Assert.Contains("alerts.enrollments_down.notify[0]", paths);
        Assert.Contains("notifiers.hook.secret", paths);
        Assert.Contains("notifiers.mail.from", paths);
        Assert.Contains("notifiers.chat.type", paths);
        Assert.Contains("runbooks.smoke_failing.rollback.pause", paths);
        Assert.Contains("alerts.smoke_failing.threshold", paths);
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Junction.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
