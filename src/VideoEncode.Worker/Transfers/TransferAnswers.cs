namespace VideoEncode.Worker.Transfers;

/// <summary>What a host's answer to a transfer's request means when it is not a success.</summary>
internal static class TransferAnswers
{
    /// <summary>A 5xx, 408 or 429 is passing (<see cref="TransientException"/>: <see cref="Retries"/> tries again); any other refusal ends the transfer.</summary>
    public static async Task ThrowIfRefusedAsync(HttpResponseMessage response, string what)
    {
        if (response.IsSuccessStatusCode) return;
        var status = (int)response.StatusCode;
        if (Retries.IsTransient(response.StatusCode))
            throw new TransientException($"the host answered {status}");
        throw new TransferFailedException($"Could not {what}: the host answered {status}: {await QueueClient.ErrorMessageAsync(response)}", retryable: false);
    }
}
