// Public surface of the outbound SMTP client: the wire protocol for delivery and
// smarthosts. MX selection and TLS policy (MTA-STS, DANE, REQUIRETLS) come with the queue.
export { SmtpClient, SmtpClientError, type Envelope, type Reply, type RecipientResult, type SendResult, type SmtpClientErrorKind } from './client.ts';
