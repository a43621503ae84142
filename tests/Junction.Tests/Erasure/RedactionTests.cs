using System.Text;
using Junction.Dispatch;
using Junction.Erasure;

namespace Junction.Tests.Erasure;

/// <summary>What an erasure takes out of stored bodies, and the seal on addresses in queued deletions.</summary>
public sealed class RedactionTests
{
    private static readonly Redaction Ada = new(["ada@example.com", "Ada Lovelace", "Ada", "Lovelace", "cus_ada123"]);

    [Fact]
    public void Json_LosesPersonalKeysAndThePersonsOwnValues_KeepsAmountsIdsAndOtherPeoplesText()
    {
        var body = """
            {"id":"evt_1","data":{"object":{"customer":"cus_ada123","customer_details":{"email":"ADA@example.com","name":"Ada Lovelace","phone":"+4420"},
            "amount_total":4900,"currency":"usd","metadata":{"note":"for ada@example.com","ref":"ord_9"},"billing":{"address1":"1 Main St"},
            "items":[{"name":"Course Pro","sku":"course-pro"}],"escaped":"ada\u0040example.com","other":"bo@example.com"}}}
            """;

        var redacted = Encoding.UTF8.GetString(Ada.Raw(Encoding.UTF8.GetBytes(body), "application/json"));

        foreach (var gone in new[] { "ada@example.com", "Lovelace", "cus_ada123", "+4420", "1 Main St", "\\u0040" })
        {
            Assert.DoesNotContain(gone, redacted, StringComparison.OrdinalIgnoreCase);
        }
        foreach (var kept in new[] { "\"amount_total\":4900", "\"currency\":\"usd\"", "ord_9", "Course Pro", "course-pro", "evt_1" })
        {
            Assert.Contains(kept, redacted, StringComparison.Ordinal);
        }
        // Someone else's address under a key that is not personal stays: only this person is forgotten.
        Assert.Contains("bo@example.com", redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void FormBody_IsRedactedFieldByField_EvenWhenTheAddressIsPercentEncoded()
    {
        var body = "email=ada%40example.com&first_name=Ada&product=course-pro&price=4900&note=hi+Ada+Lovelace";

        var redacted = Encoding.UTF8.GetString(Ada.Raw(Encoding.UTF8.GetBytes(body), "application/x-www-form-urlencoded"));

        Assert.DoesNotContain("ada%40example.com", redacted, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Lovelace", redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("first_name=Ada", redacted, StringComparison.Ordinal);
        Assert.Contains("product=course-pro", redacted, StringComparison.Ordinal);
        Assert.Contains("price=4900", redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void SealedAddresses_OpenWithTheirKeyOnly_AndAShreddedKeyLeavesThemUnreadable()
    {
        var key = ErasureSeal.NewKey();
        var payload = ErasureSeal.SealPayload(key, ["ada@example.com", "ada.work@example.com"]);

        Assert.DoesNotContain("ada", payload, StringComparison.OrdinalIgnoreCase);
        var opened = ErasureSeal.OpenPayload("er_1", payload, key);
        Assert.Equal(["ada.work@example.com", "ada@example.com"], opened.Emails);
        Assert.Throws<System.Text.Json.JsonException>(() => ErasureSeal.OpenPayload("er_1", payload, ErasureSeal.NewKey()));
        Assert.Throws<System.Text.Json.JsonException>(() => ErasureSeal.OpenPayload("er_1", payload, null));
    }

    [Fact]
    public void AddressHash_DependsOnTheInstallsSalt()
    {
        var salt = ErasureSeal.NewKey();
        Assert.Equal(ErasureSeal.Hash(salt, "ada@example.com"), ErasureSeal.Hash(salt, "ada@example.com"));
        Assert.NotEqual(ErasureSeal.Hash(salt, "ada@example.com"), ErasureSeal.Hash(ErasureSeal.NewKey(), "ada@example.com"));
        Assert.DoesNotContain("ada", ErasureSeal.Hash(salt, "ada@example.com"), StringComparison.Ordinal);
    }

    [Fact]
    public void ErasureRequests_KeptForTheDlq_NameNoAddress()
    {
        var request = "GET /v4/subscribers?status=all&email_address=ada%40example.com\nPOST /3.0/lists/x/members/abc {\"email_address\":\"ADA@example.com\"}";
        var scrubbed = Redaction.Scrub(request, new ContactErasure { ErasureId = "er_1", Emails = ["ada@example.com"] }.Emails)!;
        Assert.DoesNotContain("ada", scrubbed, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("/v4/subscribers?status=all&email_address=[erased]", scrubbed, StringComparison.Ordinal);
    }
}
