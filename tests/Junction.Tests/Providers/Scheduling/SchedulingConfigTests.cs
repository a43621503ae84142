using Junction.Config;

namespace Junction.Tests.Providers.Scheduling;

public sealed class SchedulingConfigTests
{
    private static JunctionConfig Parse(string yaml) =>
        ConfigLoader.Parse(yaml, "/etc/junction/junction.yaml", name => name == "ACUITY_API_KEY" ? "acuity_key_from_env" : null);

    [Fact]
    public void CalendlyAcuityAndZoomSources_AreRead_WithTheirKeys()
    {
        var config = Parse("""
            admin:
              tokens: ["scheduling-admin-token"]
            sources:
              calendly:
                provider: calendly
                secrets: ["calendly-signing-key"]
                api_key: calendly-pat
              acuity:
                provider: acuity
                secrets: ["${ACUITY_API_KEY}"]
                user_id: "11145481"
                api_key: "${ACUITY_API_KEY}"
              zoom:
                provider: zoom
                secrets: ["zoom-secret-token"]
            """);

        Assert.Equal("calendly-pat", config.Sources["calendly"].Option("api_key"));
        Assert.Equal("11145481", config.Sources["acuity"].Option("user_id"));
        Assert.Equal("acuity_key_from_env", config.Sources["acuity"].Option("api_key"));
        Assert.Equal(["acuity_key_from_env"], config.Sources["acuity"].Secrets);
        Assert.Equal(["zoom-secret-token"], config.Sources["zoom"].Secrets);
    }

    [Fact]
    public void AcuityWithoutApiCredentials_IsAConfigError_NamingEachKey()
    {
        var errors = Assert.Throws<ConfigException>(() => Parse("""
            admin:
              tokens: ["scheduling-admin-token"]
            sources:
              acuity:
                provider: acuity
                secrets: ["k"]
            """)).Errors;

        Assert.Contains(errors, e => e.Path == "sources.acuity.user_id");
        Assert.Contains(errors, e => e.Path == "sources.acuity.api_key");
    }
}
