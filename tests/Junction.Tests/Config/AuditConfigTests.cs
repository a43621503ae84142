using Junction.Audit;
using Junction.Config;

namespace Junction.Tests.Config;

public sealed class AuditConfigTests
{
    private const string Base = """
        sources:
          stripe-main: { provider: stripe, secrets: ["whsec_live_3f9a0c1e7b2d4a68"] }

        """;

    [Fact]
    public void AuditsSection_AsTheContractWritesIt_IsRead()
    {
        var audits = ConfigLoader.Parse(Base + """
            audits:
              window: 7d
              threshold: 1%
              thresholds: {paid_without_access: 0.5%}
              delay_threshold: 15m
              heal: true
              schedule: {payments: 30m, enrollments: 1h, tags: 24h}
            """, "j.yaml", _ => null).Audits;

        Assert.Equal((TimeSpan.FromDays(7), 0.01, TimeSpan.FromMinutes(15), true), (audits.Window, audits.Threshold, audits.DelayThreshold, audits.Heal));
        Assert.Equal(0.005, audits.ThresholdOf(AuditPoints.ByName("paid_without_access")!), 9);
        Assert.Equal(0.01, audits.ThresholdOf(AuditPoints.ByName("refund_leaks")!), 9);
        Assert.Equal(TimeSpan.FromMinutes(30), audits.Schedule[AuditObjects.Payments]);
    }

    [Fact]
    public void NoAuditsSection_GivesTheSeedsDefaults()
    {
        var audits = ConfigLoader.Parse(Base, "j.yaml", _ => null).Audits;
        Assert.Equal((TimeSpan.FromDays(7), 0.01, true), (audits.Window, audits.Threshold, audits.Heal));
        Assert.Equal([TimeSpan.FromHours(1), TimeSpan.FromMinutes(30), TimeSpan.FromHours(24)],
            audits.Schedule.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Value));
    }

    [Fact]
    public void AuditMistakes_AreReportedWithTheirKeyPaths()
    {
        var errors = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Base + """
            audits:
              window: a week
              threshold: 150%
              thresholds: {paid_without_acess: 1%}
              heal: maybe
              schedule: {payments: often, newsletters: 1h}
              colour: blue
            """, "j.yaml", _ => null)).Errors.Select(e => e.Path).Order(StringComparer.Ordinal);

        Assert.Equal(["audits.colour", "audits.heal", "audits.schedule.newsletters", "audits.schedule.payments", "audits.threshold",
            "audits.thresholds.paid_without_acess", "audits.window"], errors);
    }
}
