using Junction.Config;

namespace Junction.Tests.Capture;

/// <summary>api_keys: and the form source's options in junction.yaml, each error at its key path.</summary>
public sealed class CaptureConfigTests
{
    private static JunctionConfig Parse(string yaml, params (string Name, string Value)[] env) =>
        ConfigLoader.Parse(yaml, "/etc/junction/junction.yaml", name => env.FirstOrDefault(e => e.Name == name).Value);

    private static IReadOnlyList<ConfigError> Errors(string yaml) =>
        Assert.Throws<ConfigException>(() => Parse(yaml)).Errors;

    [Fact]
    public void FormAndApiSources_AndApiKeysFromTheEnvironment_AreRead()
    {
        var config = Parse("""
            api_keys: ["${JUNCTION_API_KEY}", "second-key-0123456789"]
            sources:
              landing:
                provider: form
                redirect: https://creator.example/thanks
                allowed_origins: ["https://creator.example", "http://localhost:8000"]
                honeypot: fax_number
                require_consent: "true"
              app:
                provider: api
            """, ("JUNCTION_API_KEY", "key-from-env-0123456789"));

        Assert.Equal(["key-from-env-0123456789", "second-key-0123456789"], config.ApiKeys);
        var form = Junction.Capture.FormSource.From(config.Sources["landing"]);
        Assert.Equal("https://creator.example/thanks", form.Redirect);
        Assert.True(form.Allows("https://creator.example"));
        Assert.True(form.Allows("http://localhost:8000"));
        Assert.False(form.Allows("https://creator.example.evil"));
        Assert.False(form.Allows(null));
        Assert.Equal("fax_number", form.Honeypot);
        Assert.True(form.RequireConsent);
        Assert.Empty(config.Sources["landing"].Secrets);
        Assert.Equal("api", config.Sources["app"].Provider);
    }

    [Fact]
    public void FormDefaults_AreHoneypotWebsite_NoRedirect_NoOrigins_NoConsentGate()
    {
        var config = Parse("""
            sources:
              landing:
                provider: form
            """);

        var form = Junction.Capture.FormSource.From(config.Sources["landing"]);
        Assert.Equal("website", form.Honeypot);
        Assert.Null(form.Redirect);
        Assert.False(form.Allows("https://creator.example"));
        Assert.False(form.RequireConsent);
    }

    [Fact]
    public void BadFormOptions_AreEachReportedAtTheirKeyPath()
    {
        var errors = Errors("""
            sources:
              landing:
                provider: form
                redirect: /thanks
                allowed_origins: ["https://ok.example", "https://creator.example/path", "creator.example"]
                honeypot: "bad name"
                require_consent: maybe
                secrets: ["nope"]
            """);

        var paths = errors.Select(e => e.Path).ToList();
        Assert.Contains("sources.landing.redirect", paths);
        Assert.Contains("sources.landing.allowed_origins[1]", paths);
        Assert.Contains("sources.landing.allowed_origins[2]", paths);
        Assert.DoesNotContain("sources.landing.allowed_origins[0]", paths);
        Assert.Contains("sources.landing.honeypot", paths);
        Assert.Contains("sources.landing.require_consent", paths);
        Assert.Contains("sources.landing.secrets[0]", paths);
    }

    [Fact]
    public void ApiKeys_AreValidatedAtTheirKeyPath()
    {
        var errors = Errors("""
            api_keys: ["short", "${MISSING_KEY}", ["nested"]]
            sources:
              app:
                provider: api
            """);

        Assert.Contains(errors, e => e.Path == "api_keys[0]" && e.Message.Contains("at least 16", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "api_keys[1]" && e.Message.Contains("MISSING_KEY", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "api_keys[2]");
    }

    [Fact]
    public void AnApiSourceWithoutApiKeys_IsAnError()
    {
        var error = Assert.Single(Errors("""
            sources:
              app:
                provider: api
            """));

        Assert.Equal("api_keys", error.Path);
    }

    [Fact]
    public void ApiKeysThatAreNotAList_AreAnError()
    {
        var error = Assert.Single(Errors("""
            api_keys: just-one-key-0123456789
            sources:
              std:
                provider: standard-webhooks
                secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
            """));

        Assert.Equal("api_keys", error.Path);
    }

    [Fact]
    public void FormRules_AreReadIntoThePolicy_AndAFormNeverMerges_WhileAnApiSourceIsUnrestricted()
    {
        var config = Parse("""
            api_keys: ["key-0123456789abcdef"]
            tags: [lead, customer]
            sources:
              landing:
                provider: form
                allowed_tags: [lead]
                double_opt_in: "true"
                allow_withdraw: "true"
              plain:
                provider: form
              app:
                provider: api
            """);

        var landing = config.Policy.Unauthenticated["landing"];
        Assert.Equal(["lead"], landing.AllowedTags);
        Assert.True(landing.DoubleOptIn);
        Assert.True(landing.AllowWithdraw);
        var plain = config.Policy.Unauthenticated["plain"];
        Assert.Empty(plain.AllowedTags);
        Assert.False(plain.DoubleOptIn || plain.AllowWithdraw);
        Assert.False(config.Policy.Unauthenticated.ContainsKey("app"));
        Assert.Equal(["landing", "plain"], config.Policy.Identity.UnauthenticatedSources.Order(StringComparer.Ordinal));
        Assert.Equal(["form"], config.Policy.UnauthenticatedProviders);
        Assert.Equal(["form"], config.Policy.Identity.UnauthenticatedProviders);
        // Rebuilding the config with another policy keeps the rules: they come from sources:.
        Assert.Equal(2, (config with { Policy = Junction.State.Policy.Empty }).Policy.Unauthenticated.Count);
    }

    [Fact]
    public void FormAllowedTags_OutsideTheVocabularyOrGrantedByAProduct_AndBadFlags_AreErrorsAtTheirKeyPaths()
    {
        var errors = Errors("""
            tags: [lead, "paid:course-pro"]
            sources:
              stripe-main:
                provider: stripe
                secrets: ["whsec_0123456789abcdef0123456789abcdef"]
              landing:
                provider: form
                allowed_tags: [lead, nope, "paid:course-pro"]
                double_opt_in: maybe
                allow_withdraw: "1"
            products:
              course-pro:
                match: [{ source: stripe-main, price: price_1 }]
                tags_while_active: ["paid:course-pro"]
            """);

        Assert.Contains(errors, e => e.Path == "sources.landing.allowed_tags[1]" && e.Message.Contains("not in tags:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "sources.landing.allowed_tags[2]" && e.Message.Contains("product course-pro", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "sources.landing.double_opt_in");
        Assert.Contains(errors, e => e.Path == "sources.landing.allow_withdraw");
    }
}
