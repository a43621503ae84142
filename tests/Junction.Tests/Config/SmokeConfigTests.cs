using Junction.Audit;
using Junction.Config;

namespace Junction.Tests.Config;

public sealed class SmokeConfigTests
{
    private static string Yaml(string stripeKey, string smoke) => $$"""
        api_keys: ["app-key-0123456789abcdef"]
        sources:
          stripe-main: { provider: stripe, secrets: ["whsec_live_3f9a0c1e7b2d4a68"]{{stripeKey}} }
          landing: { provider: form }
          shop: { provider: shopify, secrets: ["shpss_0123456789"] }
        tags: ["paid:course-pro"]
        products:
          course-pro:
            match: [{ source: stripe-main, price: price_pro }, { source: shop, sku: pro }]
            tags_while_active: ["paid:course-pro"]
          coaching:
            match: [{ source: shop, sku: coaching }]
        {{smoke}}
        """;

    [Fact]
    public void SmokeSection_AsTheContractWritesIt_IsRead_WithATestKeyMeaningSandbox()
    {
        var smoke = ConfigLoader.Parse(Yaml(", api_key: sk_test_51abc", """
            smoke:
              schedule: 24h
              source: stripe-main
              product: course-pro
              email: "smoke+{run}@creator.example"
            """), "j.yaml", _ => null).Smoke!;

        Assert.Equal((TimeSpan.FromHours(24), "stripe-main", "course-pro", "smoke+{run}@creator.example"), (smoke.Schedule, smoke.Source, smoke.Product, smoke.Email));
        Assert.Equal((SmokeModes.Sandbox, "landing"), (smoke.Mode, smoke.LeadSource));
    }

    [Fact]
    public void ALiveKeyOrNoKey_MeansSynthetic_AndAskingForASandboxWithALiveKeyIsRefused()
    {
        const string Smoke = """
            smoke: { source: stripe-main, product: course-pro }
            """;
        Assert.Equal(SmokeModes.Synthetic, ConfigLoader.Parse(Yaml("", Smoke), "j.yaml", _ => null).Smoke!.Mode);
        Assert.Equal(SmokeModes.Synthetic, ConfigLoader.Parse(Yaml(", api_key: sk_live_51abc", Smoke), "j.yaml", _ => null).Smoke!.Mode);
        Assert.Null(ConfigLoader.Parse(Yaml("", ""), "j.yaml", _ => null).Smoke);

        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Yaml(", api_key: sk_live_51abc", """
            smoke: { source: stripe-main, product: course-pro, mode: sandbox }
            """), "j.yaml", _ => null)).Errors);
        Assert.Equal("smoke.mode", error.Path);
        Assert.Contains("a live key would charge a real card", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SmokeMistakes_AreReportedWithTheirKeyPaths()
    {
        var errors = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Yaml("", """
            smoke:
              source: shop
              product: coaching-plus
              email: "smoke@creator.example"
              schedule: daily
              lead_source: stripe-main
              colour: red
            """), "j.yaml", _ => null)).Errors.Select(e => e.Path).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(["smoke.colour", "smoke.email", "smoke.lead_source", "smoke.product", "smoke.schedule", "smoke.source"], errors);
    }
}
