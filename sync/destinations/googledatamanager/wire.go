package googledatamanager

// The REST (proto3 JSON) shapes of google.ads.datamanager.v1 the connector
// sends and reads (ingestion_service.proto, audience.proto,
// user_data.proto, destination.proto, consent.proto,
// request_status_per_destination.proto).

// MembersRequest is IngestAudienceMembersRequest and
// RemoveAudienceMembersRequest (consent and termsOfService only on ingest).
type MembersRequest struct {
	Destinations    []ProductDestination `json:"destinations"`
	AudienceMembers []AudienceMember     `json:"audienceMembers"`
	Consent         *Consent             `json:"consent,omitempty"`
	ValidateOnly    bool                 `json:"validateOnly,omitempty"`
	Encoding        string               `json:"encoding"`
	TermsOfService  *TermsOfService      `json:"termsOfService,omitempty"`
}

// ProductDestination is where the members go (the proto's Destination).
type ProductDestination struct {
	Reference            string          `json:"reference,omitempty"`
	LoginAccount         *ProductAccount `json:"loginAccount,omitempty"`
	LinkedAccount        *ProductAccount `json:"linkedAccount,omitempty"`
	OperatingAccount     *ProductAccount `json:"operatingAccount"`
	ProductDestinationID string          `json:"productDestinationId"`
}

// ProductAccount is an account of a Google product.
type ProductAccount struct {
	AccountID   string `json:"accountId"`
	AccountType string `json:"accountType"`
}

// AudienceMember is one person.
type AudienceMember struct {
	UserData *UserData `json:"userData,omitempty"`
	Consent  *Consent  `json:"consent,omitempty"`
}

// UserData holds up to 10 identifiers.
type UserData struct {
	UserIdentifiers []UserIdentifier `json:"userIdentifiers"`
}

// UserIdentifier is one of an e-mail, a phone or an address.
type UserIdentifier struct {
	EmailAddress string       `json:"emailAddress,omitempty"`
	PhoneNumber  string       `json:"phoneNumber,omitempty"`
	Address      *AddressInfo `json:"address,omitempty"`
}

// AddressInfo is a hashed name with a region and postal code in clear.
type AddressInfo struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
	RegionCode string `json:"regionCode"`
	PostalCode string `json:"postalCode"`
}

// Consent is the EU user consent of the request or member.
type Consent struct {
	AdUserData        string `json:"adUserData,omitempty"`
	AdPersonalization string `json:"adPersonalization,omitempty"`
}

// TermsOfService carries the Customer Match terms status.
type TermsOfService struct {
	CustomerMatchTermsOfServiceStatus string `json:"customerMatchTermsOfServiceStatus"`
}

// MembersResponse is the answer to ingest and remove.
type MembersResponse struct {
	RequestID string `json:"requestId"`
}

// StatusResponse is RetrieveRequestStatusResponse.
type StatusResponse struct {
	RequestStatusPerDestination []DestinationStatus `json:"requestStatusPerDestination"`
}

// DestinationStatus is RequestStatusPerDestination.
type DestinationStatus struct {
	Destination                    *ProductDestination `json:"destination,omitempty"`
	RequestStatus                  string              `json:"requestStatus"`
	ErrorInfo                      *ErrorInfo          `json:"errorInfo,omitempty"`
	AudienceMembersIngestionStatus *IngestStatus       `json:"audienceMembersIngestionStatus,omitempty"`
	AudienceMembersRemovalStatus   *RemovalStatus      `json:"audienceMembersRemovalStatus,omitempty"`
}

// Request statuses.
const (
	StatusUnknown        = "REQUEST_STATUS_UNKNOWN"
	StatusSuccess        = "SUCCESS"
	StatusProcessing     = "PROCESSING"
	StatusFailed         = "FAILED"
	StatusPartialSuccess = "PARTIAL_SUCCESS"
)

// ErrorInfo counts records by processing error reason.
type ErrorInfo struct {
	ErrorCounts []ErrorCount `json:"errorCounts"`
}

// ErrorCount is one reason's count (int64 as a JSON string).
type ErrorCount struct {
	RecordCount string `json:"recordCount"`
	Reason      string `json:"reason"`
}

// IngestStatus is IngestAudienceMembersStatus (user data only).
type IngestStatus struct {
	UserDataIngestionStatus *UserDataStatus `json:"userDataIngestionStatus,omitempty"`
}

// RemovalStatus is RemoveAudienceMembersStatus (user data only).
type RemovalStatus struct {
	UserDataRemovalStatus *UserDataStatus `json:"userDataRemovalStatus,omitempty"`
}

// UserDataStatus is IngestUserDataStatus / RemoveUserDataStatus.
type UserDataStatus struct {
	RecordCount          string `json:"recordCount,omitempty"`
	UserIdentifierCount  string `json:"userIdentifierCount,omitempty"`
	UploadMatchRateRange string `json:"uploadMatchRateRange,omitempty"`
}

// APIError is the googleapis error body.
type APIError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type            string `json:"@type"`
			Reason          string `json:"reason,omitempty"`
			FieldViolations []struct {
				Field       string `json:"field"`
				Description string `json:"description"`
				Reason      string `json:"reason,omitempty"`
			} `json:"fieldViolations,omitempty"`
		} `json:"details,omitempty"`
	} `json:"error"`
}
